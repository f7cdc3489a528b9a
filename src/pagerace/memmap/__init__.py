"""What struct page metadata costs on a host and what HVO and the proposals save.

sizes (parsing and printing sizes), hvo (one folio's vmemmap per HVO generation), host
(the host description and its checks), model (the closed-form cost), render (table and
JSON), chart (the comparison chart). The `pagerace memmap` command wraps them.
"""
