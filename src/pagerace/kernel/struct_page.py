"""struct page: flags, compound head encoding, compound_head(), put_page().

Models include/linux/page-flags.h and folio_order() (include/linux/mm.h), with every
shared-memory access one step in the kernel's order; the refcount helpers of
include/linux/page_ref.h and atomic_add_unless() live in page_ref.py and are re-exported
here; put_page() / folio_put() are in folio_put.py, above buddy and hugetlb. A "page" is
its pfn (pfn_to_page / page_to_pfn are free); a folio is its head pfn.

Encodings of a tail's pointer to its head:
- G0-G2 (`compound_head`): the head's struct page address | 1.
- G3 (`compound_info`, v7.1 "mm: Rework compound_head() for power-of-2 sizeof(struct
  page)"): GENMASK(63, order + log2(sizeof(struct page))) | 1, so all tails of one order are
  byte-identical; compound_head() is `page & info`.

Fake heads (G0-G2): after HVO the descriptor at the start of every remapped vmemmap page
reads as the head (PG_head set). page_fixed_fake_head() (v5.18 e7d324850bfc) detects one:
the page is PAGE_SIZE-aligned, has PG_head, and page[1].compound_head has bit 0 set; the
real head is then page[1].compound_head - 1 (with the mask encoding: page & info).

Leaves out: the hugetlb_optimize_vmemmap_key static branch (assumed enabled: it is
incremented before any remap, so whenever a fake head exists the check runs),
PagePoisoned, folio_test_slab; flags other than PG_head / PG_lru / PG_hwpoison.
"""

from __future__ import annotations

# the refcount helpers live in page_ref.py; explicit re-exports so callers keep working
from pagerace.kernel.descriptor import read_desc, write_desc
from pagerace.kernel.handle import KernelHandle as Kernel
from pagerace.kernel.page_ref import atomic_add_unless as atomic_add_unless
from pagerace.kernel.page_ref import atomic_read_acquire as atomic_read_acquire
from pagerace.kernel.page_ref import page_ref_count as page_ref_count
from pagerace.kernel.page_ref import page_ref_dec_and_test as page_ref_dec_and_test
from pagerace.kernel.page_ref import page_ref_freeze as page_ref_freeze
from pagerace.kernel.page_ref import page_ref_inc as page_ref_inc
from pagerace.kernel.page_ref import page_ref_unfreeze as page_ref_unfreeze
from pagerace.kernel.step import Gen
from pagerace.kernel.vmemmap import FLAGS, FLAGS_1, PAGE_TYPE

PG_LRU = 1 << 5
PG_HEAD = 1 << 6
PG_HWPOISON = 1 << 23  # its bit depends on the config; memory_failure.py sets it
FLAG_NAMES = {PG_LRU: "PG_lru", PG_HEAD: "PG_head", PG_HWPOISON: "PG_hwpoison"}

PGTY_HUGETLB = "hugetlb"
PGTY_OFFLINE = "offline"


def flag_names(flags: int) -> list[str]:
    return [name for bit, name in FLAG_NAMES.items() if flags & bit]


# -- encodings (pure) ----------------------------------------------------------------------

def encode_compound_head(k: Kernel, head: int, order: int) -> int:
    """What set_compound_head(tail, head, order) stores for this generation."""
    g = k.geometry
    if k.gen.mask_encoding:
        return g.compound_info_mask(order)
    return g.desc_addr(head) | 1


def decode_compound_head(k: Kernel, page: int, info: int) -> int | None:
    """The head pfn a tail's compound_head / compound_info points at (None: not a tail)."""
    if not info & 1:
        return None
    g = k.geometry
    if k.gen.mask_encoding:
        return g.addr_pfn(g.desc_addr(page) & info)
    return g.addr_pfn(info - 1)


# -- refcount: page_ref.py (re-exported here so callers keep working) -----------------------

# -- flags and compound heads --------------------------------------------------------------

def page_flags(k: Kernel, page: int, func: str) -> Gen:
    return (yield from read_desc(k, page, FLAGS, func,
                                 f"{func}: test_bit(PG_head, &page->flags) [pfn {page}]"))


def page_fixed_fake_head(k: Kernel, page: int) -> Gen:
    """page_fixed_fake_head(): the real head if `page` is a fake head, else `page`."""
    if not k.gen.fake_heads:
        return page
    func = "page_fixed_fake_head"
    if not k.geometry.desc_page_aligned(page):
        return page
    flags = yield from page_flags(k, page, func)
    if flags & PG_HEAD:
        info = yield from read_desc(k, page + 1, k.compound_field, func,
                                    f"{func}: READ_ONCE(page[1].{k.compound_field}) "
                                    f"[pfn {page + 1}]")
        if info & 1:
            head = decode_compound_head(k, page, info)  # head - 1 (page & info)
            assert head is not None
            return head
    return page


def page_is_fake_head(k: Kernel, page: int) -> Gen:
    return (yield from page_fixed_fake_head(k, page)) != page


def compound_head(k: Kernel, page: int) -> Gen:
    """_compound_head(): READ_ONCE(page->compound_head); bit 0 -> the head it encodes,
    otherwise page_fixed_fake_head(page)."""
    info = yield from read_desc(k, page, k.compound_field, "compound_head",
                                f"compound_head: READ_ONCE(page->{k.compound_field}) "
                                f"[pfn {page}]")
    head = decode_compound_head(k, page, info)
    if head is not None:
        return head
    return (yield from page_fixed_fake_head(k, page))


def PageHead(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    """test_bit(PG_head, &page->flags) && !page_is_fake_head(page)."""
    flags = yield from page_flags(k, page, "PageHead")
    if not flags & PG_HEAD:
        return False
    return not (yield from page_is_fake_head(k, page))


def PageTail(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    """READ_ONCE(page->compound_head) & 1 || page_is_fake_head(page)."""
    info = yield from read_desc(k, page, k.compound_field, "PageTail",
                                f"PageTail: READ_ONCE(page->{k.compound_field}) "
                                f"[pfn {page}]")
    if info & 1:
        return True
    return (yield from page_is_fake_head(k, page))


def page_count_writable(k: Kernel, page: int, u: int) -> Gen:
    """v6.15 page_count_writable(): refcount first (acquire), then the fake-head check."""
    c = yield from atomic_read_acquire(k, page, "page_count_writable")
    if c == u:
        return False
    return (yield from page_fixed_fake_head(k, page)) == page


def folio_order(k: Kernel, folio: int, func: str) -> Gen:
    """folio_order(): 0 unless PG_head; then folio->_flags_1 & 0xff (two loads)."""
    flags = yield from read_desc(k, folio, FLAGS, func,
                                 f"{func}: folio_test_large [pfn {folio}]")
    if not flags & PG_HEAD:
        return 0
    return (yield from read_desc(k, folio + 1, FLAGS_1, func,
                                 f"{func}: folio->_flags_1 & 0xff [pfn {folio + 1}]"))


def page_type(k: Kernel, folio: int, func: str) -> Gen:
    return (yield from read_desc(k, folio, PAGE_TYPE, func,
                                 f"{func}: folio_test_hugetlb (page_type) [pfn {folio}]"))


# -- page types ----------------------------------------------------------------------------

def SetPageOffline(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    """__SetPageOffline(): page->page_type = PGTY_offline."""
    yield from write_desc(k, page, PAGE_TYPE, PGTY_OFFLINE, "__SetPageOffline")


def ClearPageOffline(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    yield from write_desc(k, page, PAGE_TYPE, None, "__ClearPageOffline")


def PageOffline(k: Kernel, page: int) -> Gen:  # noqa: N802 - the kernel's name
    return (yield from read_desc(k, page, PAGE_TYPE, "PageOffline")) == PGTY_OFFLINE
