"""Collection settings for the doctest run over sigint/."""

# Modules kept for one release under their old names (docs/layout.md): importing one
# warns, so the doctest collection leaves them out; tests/test_layout.py imports each.
collect_ignore = [
    "sigint/channel/model.py",
    "sigint/lanes.py",
    "sigint/link/models.py",
    "sigint/model.py",
    "sigint/network/mtl.py",
    "sigint/network/ports.py",
    "sigint/rate.py",
    "sigint/validate.py",
    "sigint/xsection/model.py",
]
