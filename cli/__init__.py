"""The `tsgan` command line (installed under the import name ``tsgan_cli``)."""
