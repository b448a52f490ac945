// A multi-layer GRU for the CPU, forward and backward, with the maths of torch.nn.GRU.
//
// Why: at TimeGAN's sizes (batch 128, hidden 24) nn.GRU on a CPU spends most of its
// time in per-operator overhead and strided element-wise kernels, not in arithmetic.
//
// How: within a layer, every sequence of the batch is its own recurrence (row b of
// h_t needs only row b of h_{t-1}). So each layer does one GEMM for the input
// projections of all steps, then splits the batch's rows over threads once, and each
// thread runs all T steps for its rows: a small row-blocked matmul h W_hh^T and the
// gates, fused in one vectorised loop, no call per step. The backward pass mirrors
// it (dh_{t-1} = dgh_t W_hh is row-local too); the weight gradients are then one
// GEMM each over all steps. Gate order (r, z, n) and
//   r = s(W_ir x + b_ir + W_hr h + b_hr), z = s(... z ...),
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) n + z h
// are nn.GRU's, so the module's own weights are used unchanged.
//
// Layout: time-major (T, B, .) inside. Saved per layer for the backward: the hidden
// states (T + 1, B, H) with h_0 = 0, and the gates (T, B, 4H) = [r, z, n, W_hn h + b_hn].

#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// exp(x) for float32 (Cephes' expf: range reduction by ln 2, degree-5 polynomial,
// scale by 2^n through the exponent bits); written without calls so that the
// compiler vectorises the loops that use it (the libm calls stay scalar).
inline float fast_exp(float x) {
  x = std::fmin(std::fmax(x, -87.0f), 88.0f);
  float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &e, sizeof s);
  return y * s;
}

inline float sigm(float v) { return 1.0f / (1.0f + fast_exp(-v)); }

inline float tanh_(float v) { return 2.0f / (1.0f + fast_exp(-2.0f * v)) - 1.0f; }

// The BLAS that PyTorch links (MKL in the x86 wheels) exports Fortran's sgemm_;
// looked up at run time, with a plain loop where it is missing.
using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);

sgemm_t blas_sgemm() {
  static const sgemm_t f = reinterpret_cast<sgemm_t>(dlsym(RTLD_DEFAULT, "sgemm_"));
  return f;
}

// out[i, :N] = init[:N] (or 0) + a[i, :K] @ w (K x N, row-major) for `rows` rows.
// Row-major C = A W is column-major C^T = W^T A^T, hence the swapped operands.
void gemm_rows(const float* a, int64_t lda, const float* w, int64_t K, int64_t N, const float* init, float* out,
               int64_t ldo, int64_t rows) {
  for (int64_t i = 0; i < rows; ++i) {
    float* o = out + i * ldo;
    if (init) std::memcpy(o, init, N * sizeof(float));
    else std::memset(o, 0, N * sizeof(float));
  }
  if (sgemm_t f = blas_sgemm()) {
    const int m = N, n = rows, k = K, la = N, lb = lda, lc = ldo;
    const float one = 1.0f;
    f("N", "N", &m, &n, &k, &one, w, &la, a, &lb, &one, out, &lc);
    return;
  }
  for (int64_t i = 0; i < rows; ++i) {
    float* o = out + i * ldo;
    for (int64_t kk = 0; kk < K; ++kk) {
      const float c = a[i * lda + kk];
      const float* wk = w + kk * N;
      for (int64_t j = 0; j < N; ++j) o[j] += c * wk[j];
    }
  }
}

// Gates of one step for `rows` rows: gi = x W_ih^T (b_ih added here, not by the GEMM:
// addmm would first copy the broadcast bias into its whole output), gh = h W_hh^T + b_hh.
void gates_forward(const float* __restrict__ gi, const float* __restrict__ bi, const float* __restrict__ gh,
                   const float* __restrict__ h, float* __restrict__ h_new, float* __restrict__ gates, int64_t rows,
                   int64_t H) {
  for (int64_t b = 0; b < rows; ++b) {
    const float* gib = gi + b * 3 * H;
    const float* ghb = gh + b * 3 * H;
    const float* hb = h + b * H;
    float* hn = h_new + b * H;
    float* gb = gates + b * 4 * H;
    for (int64_t k = 0; k < H; ++k) {
      float r = sigm(gib[k] + bi[k] + ghb[k]);
      float z = sigm(gib[H + k] + bi[H + k] + ghb[H + k]);
      float ghn = ghb[2 * H + k];
      float n = tanh_(gib[2 * H + k] + bi[2 * H + k] + r * ghn);
      hn[k] = n + z * (hb[k] - n);
      gb[k] = r;  // always stored (to scratch when not saved): conditional stores block vectorisation
      gb[H + k] = z;
      gb[2 * H + k] = n;
      gb[3 * H + k] = ghn;
    }
  }
}

// One step of the backward pass for `rows` rows. The grad w.r.t. h_t is dy (from the
// output) + dh (= dgh_{t+1} W_hh + dh_{t+1} z_{t+1}, from the next step); it gives the
// pre-activation grads dgi, dgh, and in dh the direct part g z_t of the grad w.r.t. h_{t-1}.
void gates_backward(const float* __restrict__ dy, const float* __restrict__ h_prev, const float* __restrict__ gates,
                    float* __restrict__ dh, float* __restrict__ dgi, float* __restrict__ dgh, int64_t rows,
                    int64_t H) {
  for (int64_t b = 0; b < rows; ++b) {
    const float* gb = gates + b * 4 * H;
    const float* hp = h_prev + b * H;
    const float* dyb = dy + b * H;
    float* dhb = dh + b * H;
    float* dgib = dgi + b * 3 * H;
    float* dghb = dgh + b * 3 * H;
    for (int64_t k = 0; k < H; ++k) {
      float r = gb[k], z = gb[H + k], n = gb[2 * H + k], ghn = gb[3 * H + k];
      float g = dhb[k] + dyb[k];
      float dn = g * (1.0f - z) * (1.0f - n * n);
      float dz = g * (hp[k] - n) * z * (1.0f - z);
      float dr = dn * ghn * r * (1.0f - r);
      dgib[k] = dr;
      dgib[H + k] = dz;
      dgib[2 * H + k] = dn;
      dghb[k] = dr;
      dghb[H + k] = dz;
      dghb[2 * H + k] = dn * r;
      dhb[k] = g * z;
    }
  }
}

// Thread chunks of at least this many rows (two chunks for a batch of 128).
constexpr int64_t kGrain = 64;

}  // namespace

// x: (B, T, I) float32; weights: per layer w_ih (3H, I_l), w_hh (3H, H), b_ih, b_hh.
// Returns [output (B, T, H), states_0, gates_0, states_1, gates_1, ...]
// (states and gates only when save is true).
std::vector<at::Tensor> gru_forward(const at::Tensor& x, const std::vector<at::Tensor>& w, bool save) {
  TORCH_CHECK(x.dim() == 3 && x.scalar_type() == at::kFloat && x.device().is_cpu(),
              "fused GRU: float32 CPU (B, T, I) input");
  const int64_t L = static_cast<int64_t>(w.size()) / 4;
  const int64_t B = x.size(0), T = x.size(1), H = w[1].size(1);
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> out(1);
  at::Tensor inp = x.transpose(0, 1).contiguous();  // (T, B, I)
  for (int64_t l = 0; l < L; ++l) {
    const at::Tensor& w_ih = w[4 * l];
    at::Tensor w_hh_t = w[4 * l + 1].t().contiguous();  // (H, 3H)
    at::Tensor b_ih = w[4 * l + 2].contiguous(), b_hh = w[4 * l + 3].contiguous();
    at::Tensor gi = at::mm(inp.reshape({T * B, inp.size(2)}), w_ih.t()).view({T, B, 3 * H});
    at::Tensor states = at::empty({T + 1, B, H}, x.options());
    states[0].zero_();
    at::Tensor gates = at::empty({save ? T : 1, B, 4 * H}, x.options());
    const float *gip = gi.data_ptr<float>(), *whp = w_hh_t.data_ptr<float>(), *bhp = b_hh.data_ptr<float>(),
                *bip = b_ih.data_ptr<float>();
    float *sp = states.data_ptr<float>(), *gp = gates.data_ptr<float>();
    at::parallel_for(0, B, kGrain, [&](int64_t b0, int64_t b1) {
      const int64_t n = b1 - b0;
      std::vector<float> gh(n * 3 * H), scratch(save ? 0 : n * 4 * H);
      for (int64_t t = 0; t < T; ++t) {
        const float* h_t = sp + (t * B + b0) * H;
        gemm_rows(h_t, H, whp, H, 3 * H, bhp, gh.data(), 3 * H, n);
        float* g_t = save ? gp + (t * B + b0) * 4 * H : scratch.data();
        gates_forward(gip + (t * B + b0) * 3 * H, bip, gh.data(), h_t, sp + ((t + 1) * B + b0) * H, g_t, n, H);
      }
    });
    inp = states.narrow(0, 1, T);  // contiguous: the next layer's input
    if (save) {
      out.push_back(states);
      out.push_back(gates);
    }
  }
  out[0] = inp.transpose(0, 1).contiguous();
  return out;
}

// grad_out: (B, T, H); x the forward's input; saved = [states_0, gates_0, ...].
// Returns [grad_x (or undefined), then per layer grad w_ih, w_hh, b_ih, b_hh (or undefined)].
std::vector<at::Tensor> gru_backward(const at::Tensor& grad_out, const at::Tensor& x, const std::vector<at::Tensor>& w,
                                     const std::vector<at::Tensor>& saved, bool need_x, bool need_w) {
  const int64_t L = static_cast<int64_t>(w.size()) / 4;
  const int64_t B = x.size(0), T = x.size(1), H = w[1].size(1);
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads(1 + 4 * L);
  at::Tensor dy = grad_out.transpose(0, 1).contiguous();  // (T, B, H)
  for (int64_t l = L - 1; l >= 0; --l) {
    const at::Tensor& w_ih = w[4 * l];
    at::Tensor w_hh = w[4 * l + 1].contiguous();  // (3H, H)
    const at::Tensor &states = saved[2 * l], &gates = saved[2 * l + 1];
    at::Tensor dgi = at::empty({T, B, 3 * H}, x.options());
    at::Tensor dgh = at::empty({T, B, 3 * H}, x.options());
    const float *sp = states.data_ptr<float>(), *gp = gates.data_ptr<float>(), *dyp = dy.data_ptr<float>();
    const float* whp = w_hh.data_ptr<float>();
    float *dgip = dgi.data_ptr<float>(), *dghp = dgh.data_ptr<float>();
    at::parallel_for(0, B, kGrain, [&](int64_t b0, int64_t b1) {
      const int64_t n = b1 - b0;
      std::vector<float> dh(n * H, 0.0f), dh_mm(n * H);
      for (int64_t t = T - 1; t >= 0; --t) {
        const int64_t row = t * B + b0;
        gates_backward(dyp + row * H, sp + row * H, gp + row * 4 * H, dh.data(), dgip + row * 3 * H,
                       dghp + row * 3 * H, n, H);
        if (t == 0) break;  // h_0 = 0 needs no gradient
        gemm_rows(dghp + row * 3 * H, 3 * H, whp, 3 * H, H, nullptr, dh_mm.data(), H, n);
        for (int64_t i = 0; i < n * H; ++i) dh[i] += dh_mm[i];
      }
    });
    // layer 0's input, time-major, only when its weight gradient needs it
    at::Tensor inp = l > 0 ? saved[2 * (l - 1)].narrow(0, 1, T)
                           : (need_w ? x.transpose(0, 1).contiguous() : x.transpose(0, 1));
    at::Tensor dgi2 = dgi.view({T * B, 3 * H});
    if (need_w) {
      at::Tensor dgh2 = dgh.view({T * B, 3 * H});
      grads[1 + 4 * l] = at::mm(dgi2.t(), inp.reshape({T * B, inp.size(2)}));
      grads[2 + 4 * l] = at::mm(dgh2.t(), states.narrow(0, 0, T).reshape({T * B, H}));
      grads[3 + 4 * l] = dgi2.sum(0);
      grads[4 + 4 * l] = dgh2.sum(0);
    }
    if (l > 0 || need_x) {
      dy = at::mm(dgi2, w_ih).view({T, B, inp.size(2)});
    }
  }
  if (need_x) grads[0] = dy.transpose(0, 1).contiguous();
  return grads;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &gru_forward, "fused multi-layer GRU forward (CPU)");
  m.def("backward", &gru_backward, "fused multi-layer GRU backward (CPU)");
}
