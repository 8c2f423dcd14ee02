"""Data files shipped with emlib (see NOTICE.md); read them through emlib.datasets."""
