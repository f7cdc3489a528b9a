/*
 * hvo-speculative-walker in Promela: the same two CPUs and the same shared-memory steps as
 * pagerace's scenario (src/pagerace/scenarios/hvo_speculative_walker.py, walker=pfn,
 * tlb=current, geometry=scaled or real, walkers=1..4), for timing SPIN against pagerace.
 *
 * Build one cell:
 *   spin -DGEN=G0 -DARCH=X86 -DTARGET=UNALIGNED -a hvo_speculative_walker.pml
 *   gcc -O2 -DSAFETY -o pan pan.c && ./pan -m10000
 *   GEN    in G0 RW_TAILS G1 G1B G2 G3
 *   ARCH   in X86 ARM64_LSE LLSC RISCV_ZACAS
 *   TARGET in ALIGNED UNALIGNED
 *   -DREAL         the real geometry (default: scaled)
 *   -DWALKERS=N    N walker CPUs on page1 (default 1; pagerace's walkers=N)
 *
 * CPU 1 (proctype cpu1): put_page(page1); alloc_hugetlb_folio(containing page1);
 * hugetlb_vmemmap_optimize_folio(); enqueue_hugetlb_folio(); dequeue_hugetlb_folio().
 * CPUs 2.. (proctype walker, one per walker): get_page_unless_zero(page1) as
 * page_ref_add_unless() of the generation; put_page(page1) if it got a reference.
 * synchronize_rcu() snapshots every walker's read-side state in one step, then waits for
 * each walker found inside, in CPU order (kernel/rcu.py).
 *
 * One `atomic` block per pagerace step, in pagerace's order. Every descriptor access
 * translates pfn -> vmemmap page -> (frame, permission) through the pte_* arrays in the
 * same block, as pagerace's translate() does.
 *
 * Geometry (scaled): 4 descriptors per vmemmap page, the folio is pfns 16..31 (order 4) =
 * vmemmap pages 4..7; page1 = 20 (aligned: starts vmemmap page 5) or 21 (unaligned).
 * Geometry (real, -DREAL): 64 descriptors per vmemmap page, the folio is pfns 512..1023
 * (order 9) = vmemmap pages 8..15; page1 = 576 or 577. Every byte variable becomes a
 * short there (pfns and descriptor indexes exceed 255).
 *
 * Properties (assertions; each sets a ghost flag named after pagerace's violation kind, so
 * pan prints e.g. "assertion violated !(oops)"):
 *   oops        a store / write cycle through a read-only vmemmap PTE
 *   dedup       a store that changes a value through a deduplicated alias (dedup-write)
 *   refneg      a _refcount store below zero (refcount)
 *   warn, bug   VM_WARN_ON_ONCE_FOLIO(folio_ref_count) in HVO (G1+), VM_BUG_ON_FOLIO in
 *               enqueue, buddy / vmemmap-frame double free, frame freed while mapped,
 *               unbalanced rcu_read_unlock, synchronize_rcu inside a reader
 *   unbalanced  at the end (init, after both CPUs finished): references-balanced exactly as
 *               scenarios/common.py states it
 *   unmodelled  a path pagerace has and this file does not (see below) was reached
 * An Await that never becomes true is an invalid end state, which pan reports as an error,
 * as pagerace reports a deadlock.
 *
 * Differences from pagerace's model (everything else is step for step the same):
 * - State is finite arrays instead of a dictionary: only vmemmap pages 4..7 (the folio's)
 *   exist; frames 0..3 are their boot frames (pagerace: frames 4..7), frames 4..5 the
 *   fresh ones (pagerace: 64, 65). Addresses are not modelled: a G0-G2 compound_head is
 *   stored as (head << 1) | 1 instead of the head's struct page address | 1, and the G3
 *   compound_info mask as (order << 1) | 1, decoded as pfn & ~(2^order - 1) (pagerace:
 *   GENMASK(63, order + 6) | 1 applied to the descriptor address). Both are the same
 *   function of the pfn, and all G3 tails stay byte-identical.
 * - The buddy allocator is one bit per pfn of the folio block (pagerace: a tuple of free
 *   ranges over all 256 pfns); the rest of memory is never touched by this scenario.
 * - free_huge_folio() (a walker's put_page() that drops the last reference of a hugetlb
 *   folio, which would de-HVO it) is not modelled: reaching it fails the assertion
 *   `unmodelled`. It is unreachable here: a walker only gets a reference before page1 is
 *   freed (then CPU 1's put is not the last and the folio is never allocated) or after
 *   the remap (then its store faults or is a dedup write first).
 * - The ghost counter of PTEs per frame is replaced by scanning the four PTEs when a frame
 *   is freed (same check, "freed while mapped").
 * - Trace notes, tracepoints and the `sometimes` property (walker-reads-in-window) are not
 *   modelled: assertions cannot state "some execution reaches", and the verdict does not
 *   depend on it.
 * - Local control flow after a step (branching on the value it returned) is sometimes a
 *   separate Promela statement; it touches only process-local variables.
 */

/* axes */
#define G0 1
#define RW_TAILS 2
#define G1 3
#define G1B 4
#define G2 5
#define G3 6
#define X86 1
#define ARM64_LSE 2
#define LLSC 3
#define RISCV_ZACAS 4
#define ALIGNED 1
#define UNALIGNED 2

#ifndef GEN
#define GEN G0
#endif
#ifndef ARCH
#define ARCH X86
#endif
#ifndef TARGET
#define TARGET UNALIGNED
#endif

/* the generation's page_ref_add_unless() and HVO variants (generations.py) */
#define GET_PLAIN 1
#define GET_V610 2
#define GET_V614 3
#define GET_V615 4
#define HVO_V62 1
#define HVO_V610 2
#define HVO_V612 3
#define HVO_V71 4

#if GEN == G0 || GEN == RW_TAILS
#define GETV GET_PLAIN
#define HVOV HVO_V62
#elif GEN == G1
#define GETV GET_V610
#define HVOV HVO_V610
#elif GEN == G1B
#define GETV GET_V614
#define HVOV HVO_V612
#elif GEN == G2
#define GETV GET_V615
#define HVOV HVO_V612
#elif GEN == G3
#define GETV GET_PLAIN
#define HVOV HVO_V71
#else
#error unknown GEN
#endif

#if GEN == G3
#define FAKE_HEADS 0
#define MASK_ENC 1
#else
#define FAKE_HEADS 1
#define MASK_ENC 0
#endif
#if GEN == RW_TAILS
#define TAIL_RO 0
#else
#define TAIL_RO 1
#endif

/* what a compare-and-swap whose compare fails does (arch.py) */
#define CAS_ALWAYS 1
#define CAS_MAYBE 2
#define CAS_NEVER 3
#if ARCH == X86 || ARCH == RISCV_ZACAS
#define FAILED_CAS CAS_ALWAYS
#elif ARCH == ARM64_LSE
#define FAILED_CAS CAS_MAYBE
#elif ARCH == LLSC
#define FAILED_CAS CAS_NEVER
#else
#error unknown ARCH
#endif

#ifndef WALKERS
#define WALKERS 1
#endif

#ifdef REAL
/* geometry (real): 4 KiB pages, 64-byte struct page, 2 MiB folio */
#define byte short
#define PER 64           /* descriptors per vmemmap page */
#define ORDER 9
#define FOLIO 512        /* the block the folio will occupy: pfns 512..1023 */
#define NPAGES 512
#define V0 8             /* first vmemmap page of the folio */
#define NV 8             /* vmemmap pages 8..15 */
#else
/* geometry (scaled) */
#define PER 4            /* descriptors per vmemmap page */
#define ORDER 4
#define FOLIO 16         /* the block the folio will occupy: pfns 16..31 */
#define NPAGES 16
#define V0 4             /* first vmemmap page of the folio */
#define NV 4             /* vmemmap pages 4..7 */
#endif
#define NF (NV + 2)      /* frames: 0..NV-1 boot frames of the folio's vmemmap; 2 fresh */
#define NOFRAME 255
#if TARGET == ALIGNED
#define PAGE1 (FOLIO + PER)
#else
#define PAGE1 (FOLIO + PER + 1)
#endif

#define PG_LRU 1
#define PG_HEAD 2
#if MASK_ENC
#define ENC ((ORDER << 1) | 1)
#else
#define ENC ((FOLIO << 1) | 1)
#endif

/* hugetlb pool state */
#define P_NONE 0
#define P_NEW 1
#define P_FREE 2
#define P_ACTIVE 3
#define P_REMOVED 4

/* vmemmap page table: vmemmap page V0 + v -> frame, read-only?, HVO alias? */
byte pte_frame[NV];
bool pte_ro[NV];
bool alias[NV];
/* descriptors: frame * PER + slot */
short refc[NF * PER];
byte flg[NF * PER];
byte chead[NF * PER];
bool pt_huge[NF * PER];
byte flags1[NF * PER];
byte frame_next = NV;
bool frame_freed[NF];
/* buddy: pfn FOLIO + i free? */
bool bfree[NPAGES];
/* hugetlb bookkeeping */
byte pool = P_NONE;
bool optimized = 0;
byte vtail = NOFRAME;
/* RCU per CPU (0: CPU 1, w: walker w) */
byte nest[1 + WALKERS];
byte rgen[1 + WALKERS];
/* ghost flags of the properties */
bool oops, dedup, refneg, warn, bug, unbalanced, unmodelled;

/* translate(): pfn -> vmemmap page -> frame slot, permission */
inline tr(pfn) {
  assert((pfn) >= FOLIO && (pfn) < FOLIO + NPAGES);
  v = (pfn) / PER - V0;
  idx = pte_frame[v] * PER + (pfn) % PER;
  ro = pte_ro[v]
}

/* checked_store(): ro -> oops; negative refcount; dedup write through an alias (a macro:
   Promela inlines cannot take an array name) */
#define chk_store(arr, val, isref) \
  oops = ro; assert(!oops); \
  refneg = (isref && (val) < 0); assert(!refneg); \
  dedup = ((val) != arr[idx] && alias[v]); assert(!dedup); \
  arr[idx] = (val)

/* cmpxchg_desc() on _refcount with the architecture's failed-compare write */
inline cas_refc(pfn, expected, newv, found) {
  tr(pfn);
  found = refc[idx];
  if
  :: found == expected -> chk_store(refc, newv, 1)
  :: else ->
#if FAILED_CAS == CAS_ALWAYS
     writes = 1;
#elif FAILED_CAS == CAS_MAYBE
     if :: writes = 1 :: writes = 0 fi;
#else
     writes = 0;
#endif
     if
     :: writes -> oops = ro; assert(!oops); chk_store(refc, found, 1)
     :: else -> skip
     fi
  fi
}

inline decode(pg, inf, h) {
#if MASK_ENC
  h = (pg) & ~((1 << ((inf) >> 1)) - 1)
#else
  h = (inf) >> 1
#endif
}

/* page_fixed_fake_head() */
inline fixed_fake_head(pg, h) {
#if FAKE_HEADS
  if
  :: ((pg) % PER == 0) ->
     atomic { tr(pg); f = flg[idx] };
     if
     :: (f & PG_HEAD) ->
        atomic { tr((pg) + 1); info = chead[idx] };
        if
        :: (info & 1) -> decode(pg, info, h)
        :: else -> h = pg
        fi
     :: else -> h = pg
     fi
  :: else -> h = pg
  fi
#else
  h = pg
#endif
}

/* free_pages_prepare() + __free_one_page() */
inline free_frozen_pages(pg, ord) {
  if
  :: ord > 0 ->
     /* free_tail_page_prepare, one step per vmemmap page */
     g = 0;
     do
     :: g < NV ->
        atomic {
          p = FOLIO + g * PER;
          do
          :: p < FOLIO + (g + 1) * PER ->
             if
             :: p != pg ->
                tr(p);
                if :: p == (pg) + 1 -> chk_store(flags1, 0, 0) :: else -> skip fi;
                chk_store(chead, 0, 0);
                chk_store(flg, 0, 0)
             :: else -> skip
             fi;
             p++
          :: else -> break
          od;
          g++
        }
     :: else -> break
     od
  :: else -> skip
  fi;
  atomic { tr(pg); chk_store(flg, 0, 0) };
  atomic {
    if
    :: ord == 0 -> bug = bfree[(pg) - FOLIO]; assert(!bug); bfree[(pg) - FOLIO] = 1
    :: else ->
       p = 0;
       do
       :: p < NPAGES -> bug = bfree[p]; assert(!bug); bfree[p] = 1; p++
       :: else -> break
       od
    fi
  }
}

/* put_page(): folio_put(compound_head(page)) */
inline put_page(pg) {
  atomic { tr(pg); info = chead[idx] };
  if
  :: (info & 1) -> decode(pg, info, head)
  :: else -> fixed_fake_head(pg, head)
  fi;
  atomic { tr(head); c = refc[idx] - 1; chk_store(refc, c, 1) };
  if
  :: c == 0 ->
     atomic { tr(head); huge = pt_huge[idx] };
     if
     :: huge -> unmodelled = 1; assert(!unmodelled)   /* free_huge_folio() */
     :: else ->
        atomic { tr(head); f = flg[idx] };
        if
        :: (f & PG_HEAD) -> atomic { tr(head + 1); ord = flags1[idx] }
        :: else -> ord = 0
        fi;
        free_frozen_pages(head, ord)
     fi
  :: else -> skip
  fi
}

/* synchronize_rcu() on CPU 1 (index 0): one snapshot of every walker, then one wait
   per walker found inside a section, in CPU order */
inline synchronize_rcu() {
  atomic {
    bug = (nest[0] > 0); assert(!bug);
    w = 1;
    do
    :: w <= WALKERS -> waiting[w] = (nest[w] > 0); wg[w] = rgen[w]; w++
    :: else -> break
    od
  };
  w = 1;
  do
  :: w <= WALKERS ->
     if
     :: waiting[w] -> atomic { (nest[w] == 0 || rgen[w] != wg[w]) -> skip }
     :: else -> skip
     fi;
     w++
  :: else -> break
  od
}

/* vmemmap_remap_pte() */
inline remap_pte(vv, fr, isro, isalias) {
  atomic { old[vv] = pte_frame[vv]; pte_frame[vv] = fr; pte_ro[vv] = isro; alias[vv] = isalias }
}

/* copy_head_page(): alloc a frame and copy vmemmap page 0 of the folio into it */
inline copy_head_page(newf) {
  atomic {
    tr(FOLIO);
    newf = frame_next; frame_next++;
    p = 0;
    do
    :: p < PER ->
       refc[newf * PER + p] = refc[pte_frame[0] * PER + p];
       flg[newf * PER + p] = flg[pte_frame[0] * PER + p];
       chead[newf * PER + p] = chead[pte_frame[0] * PER + p];
       pt_huge[newf * PER + p] = pt_huge[pte_frame[0] * PER + p];
       flags1[newf * PER + p] = flags1[pte_frame[0] * PER + p];
       p++
    :: else -> break
    od
  }
}

inline free_frame(fr) {
  bug = frame_freed[fr]; assert(!bug);
  bug = (pte_frame[0] == fr || pte_frame[1] == fr || pte_frame[2] == fr
         || pte_frame[3] == fr); assert(!bug);
  frame_freed[fr] = 1
}

proctype cpu1() {
  byte v, idx, p, g, f, info, head, ord, newf, tailf, w;
  byte wg[1 + WALKERS];
  byte old[NV];
  short c, found;
  bool ro, writes, huge, done;
  bool waiting[1 + WALKERS];

  /* put_page(page1): the LRU folio dies */
  put_page(PAGE1);

  /* alloc_hugetlb_folio(containing page1) */
  atomic {
    done = 1; p = 0;
    do
    :: p < NPAGES -> done = done && bfree[p]; p++
    :: else -> break
    od;
    if
    :: done -> p = 0;
       do
       :: p < NPAGES -> bfree[p] = 0; p++
       :: else -> break
       od
    :: else -> skip
    fi
  };
  if
  :: !done -> goto out     /* a speculative reference kept page1 allocated */
  :: else -> skip
  fi;
  /* prep_new_page(): set_page_refcounted, prep_compound_page per vmemmap page */
  atomic { tr(FOLIO); chk_store(refc, 1, 1) };
  g = 0;
  do
  :: g < NV ->
     atomic {
       p = FOLIO + g * PER;
       do
       :: p < FOLIO + (g + 1) * PER ->
          tr(p);
          if
          :: p == FOLIO -> chk_store(flg, PG_HEAD, 0)
          :: else -> chk_store(chead, ENC, 0)
          fi;
          p++
       :: else -> break
       od;
       g++
     }
  :: else -> break
  od;
  atomic { tr(FOLIO + 1); chk_store(flags1, ORDER, 0) };
  /* page_ref_freeze(head, 1) */
  atomic { cas_refc(FOLIO, 1, 0, found) };
  if
  :: found != 1 ->
     /* __free_pages(head, order) */
     atomic { tr(FOLIO); c = refc[idx] - 1; chk_store(refc, c, 1) };
     if
     :: c == 0 -> free_frozen_pages(FOLIO, ORDER)
     :: else -> skip
     fi;
     goto out
  :: else -> skip
  fi;
  atomic { tr(FOLIO); chk_store(pt_huge, 1, 0) };
  atomic { pool = P_NEW };

  /* hugetlb_vmemmap_optimize_folio() */
#if HVOV == HVO_V610
  synchronize_rcu();
#endif
#if HVOV != HVO_V62
  atomic { tr(FOLIO); warn = (refc[idx] != 0); assert(!warn) };
#endif
  atomic { done = optimized };
  if
  :: done -> goto enqueue
  :: else -> skip
  fi;
#if HVOV == HVO_V71
  /* vmemmap_get_tail() */
  atomic { tailf = vtail };
  if
  :: tailf == NOFRAME ->
     atomic {
       newf = frame_next; frame_next++;
       p = 0;
       do
       :: p < PER -> chead[newf * PER + p] = ENC; p++
       :: else -> break
       od
     };
     atomic {
       if
       :: vtail == NOFRAME -> vtail = newf
       :: else -> free_frame(newf)
       fi;
       tailf = vtail
     }
  :: else -> skip
  fi;
#endif
#if HVOV == HVO_V612
  synchronize_rcu();
#endif
  atomic { optimized = 1 };
  /* vmemmap_remap_free() */
  copy_head_page(newf);
  remap_pte(0, newf, 0, 0);
#if HVOV == HVO_V71
  remap_pte(1, tailf, 1, 1);
  remap_pte(2, tailf, 1, 1);
  remap_pte(3, tailf, 1, 1);
#else
  remap_pte(1, newf, TAIL_RO, 1);
  remap_pte(2, newf, TAIL_RO, 1);
  remap_pte(3, newf, TAIL_RO, 1);
#endif
  atomic { skip };   /* flush_tlb_kernel_range: no TLB in either model */
  /* free_vmemmap_page_list() */
  atomic { free_frame(old[0]); free_frame(old[1]); free_frame(old[2]); free_frame(old[3]) };

enqueue:
  /* enqueue_hugetlb_folio() */
  atomic { tr(FOLIO); bug = (refc[idx] != 0); assert(!bug) };
  atomic { pool = P_FREE };
  /* dequeue_hugetlb_folio(): list_move, folio_ref_unfreeze(folio, 1) */
  atomic { pool = P_ACTIVE };
  atomic { tr(FOLIO); chk_store(refc, 1, 1) };
out:
  skip
}

/* atomic_add_unless(&page->_refcount, 1, 0) as the generic try_cmpxchg loop */
inline add_unless(pg, ret) {
  atomic { tr(pg); c = refc[idx] };
  do
  :: c == 0 -> ret = 0; break
  :: c != 0 ->
     atomic {
       cas_refc(pg, c, c + 1, found);
       if
       :: found == c -> ret = 1
       :: else -> c = found
       fi
     };
     if
     :: ret -> break
     :: else -> skip
     fi
  od
}

inline rcu_read_lock() {
  atomic { if :: nest[me] == 0 -> rgen[me]++ :: else -> skip fi; nest[me]++ }
}

inline rcu_read_unlock() {
  atomic { bug = (nest[me] == 0); assert(!bug); nest[me]-- }
}

proctype walker(byte me) {
  byte v, idx, p, g, f, info, head, ord, h;
  short c, found;
  bool ro, writes, huge, got;

  got = 0;
#if GETV == GET_PLAIN
  add_unless(PAGE1, got);
#elif GETV == GET_V610
  rcu_read_lock();
  fixed_fake_head(PAGE1, h);
  if
  :: h == PAGE1 ->
     atomic { tr(PAGE1); c = refc[idx] };
     if
     :: c != 0 -> add_unless(PAGE1, got)
     :: else -> skip
     fi
  :: else -> skip
  fi;
  rcu_read_unlock();
#elif GETV == GET_V614
  rcu_read_lock();
  fixed_fake_head(PAGE1, h);
  if
  :: h == PAGE1 -> add_unless(PAGE1, got)
  :: else -> skip
  fi;
  rcu_read_unlock();
#elif GETV == GET_V615
  rcu_read_lock();
  /* page_count_writable(): refcount (acquire) first, then the fake-head check */
  atomic { tr(PAGE1); c = refc[idx] };
  if
  :: c != 0 ->
     fixed_fake_head(PAGE1, h);
     if
     :: h == PAGE1 -> add_unless(PAGE1, got)
     :: else -> skip
     fi
  :: else -> skip
  fi;
  rcu_read_unlock();
#endif
  if
  :: got -> put_page(PAGE1)
  :: else -> skip
  fi
}

init {
  byte i, v, idx, pv;
  bool ro, fake;
  atomic {
    i = 0;
    do
    :: i < NV -> pte_frame[i] = i; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NPAGES -> bfree[i] = (FOLIO + i != PAGE1); i++
    :: else -> break
    od;
    /* page1: an LRU page with one reference */
    refc[(PAGE1 / PER - V0) * PER + PAGE1 % PER] = 1;
    flg[(PAGE1 / PER - V0) * PER + PAGE1 % PER] = PG_LRU;
    run cpu1();
    i = 1;
    do
    :: i <= WALKERS -> run walker(i); i++
    :: else -> break
    od
  };
  (_nr_pr == 1);
  /* references-balanced (scenarios/common.py) */
  atomic {
    pv = PAGE1 / PER - V0;
    if
    :: pool == P_ACTIVE ->
       tr(FOLIO);
       fake = (PAGE1 % PER == 0 && pte_frame[pv] == pte_frame[0]);
       tr(PAGE1);
       unbalanced = (refc[pte_frame[0] * PER] != 1) || (!fake && refc[idx] != 0)
    :: else ->
       tr(PAGE1);
       unbalanced = (refc[idx] != 0)
    fi;
    assert(!unbalanced)
  }
}
