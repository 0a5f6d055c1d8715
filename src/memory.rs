//! A ceiling on the memory one run may hold, so hostile input ends in a clear error instead
//! of an abort or the kernel's out-of-memory killer.
//!
//! Every width, count and size a chart controls is checked where it is used (template filters,
//! archive and file limits, network caps). What no argument check can see, such as a template
//! that doubles a string forty times with `~`, meets this allocator: past the ceiling it prints
//! one line and exits with code 2, having written nothing (output goes out only after a whole
//! render succeeded, and files are written through temporary names).
//!
//! The kernel keeps the count: the ceiling is the process's data limit (`RLIMIT_DATA`, every
//! private writable mapping: the heaps, large blocks, thread stacks), so an allocation past it
//! fails and this allocator turns the failure into the message. Counting each allocation in
//! a shared counter instead made the two cores fight over its cache line on every `malloc`
//! and `free`, about a tenth of a small render.
//!
//! Small blocks (at most 512 bytes) freed on a thread are kept for that thread's next
//! allocations of the same size class, a few hundred a class: a render allocates and frees
//! hundreds of thousands of small strings and nodes, and glibc keeps only seven a size in its
//! per-thread cache, sending the rest through its slower bins. Each kept block came from
//! `malloc` rounded up to its class, so it serves any request of that class.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::OnceLock;

/// The system allocator, ending the run with a clear message when memory runs out.
pub struct Bounded;

/// The most the ceiling may be: 8 GiB.
const MAX_CEILING: u64 = 8 << 30;

/// Room above the ceiling for what is not the render's own memory, besides the worker
/// threads' share ([`set_ceiling`]): the main heap's reserve, the libraries' data.
const HEADROOM: u64 = 64 << 20;

/// The data limit the process started with when [`set_ceiling`] lowered it (which
/// [`inherit_limit`] gives back to the programs it runs).
static STARTING_LIMIT: OnceLock<libc::rlim_t> = OnceLock::new();

/// The environment variable that sets the ceiling in bytes (for tests, and for a trusted input
/// that needs more).
pub const CEILING_VARIABLE: &str = "AETHER_CHART_MEMORY_LIMIT";

/// How much the C allocator's heaps grow by at a time. glibc's default (128 KiB) makes a
/// worker thread's heap grow by hundreds of small `mprotect` calls during one render; the
/// address space this reserves is not touched, so it costs no memory.
const HEAP_GROWTH: libc::c_int = 32 << 20;

/// Sets how the heaps grow; call it before anything allocates.
pub fn tune_heaps() {
    // SAFETY: mallopt only changes a tunable of the allocator.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, HEAP_GROWTH);
    }
}

/// glibc starts each thread's heap at a multiple of this (a heap's largest size on 64-bit).
const THREAD_HEAP: usize = 64 << 20;

/// A huge page.
const HUGE_PAGE: usize = 2 << 20;

/// How much of a worker thread's heap, after its first huge page, is backed by huge pages: one
/// (two cost as little time, and 4 MB more memory for a small render).
const HUGE_SPAN: usize = 2 << 20;

/// Backs the part of the calling thread's heap where a small render lives with huge pages,
/// when the kernel offers them on request, and answers where that part starts. Call it first
/// on each worker thread, after [`tune_heaps`] (a huge page must lie in one writable mapping).
///
/// A render of a few dozen documents touches about two megabytes of each worker's heap. Taken
/// as 4 KiB page faults that is about 500 faults a thread, close to a millisecond of system
/// time between the two; one 2 MiB fault costs a twentieth of that. The heap's first huge page
/// already holds glibc's header when the thread gets here, so it cannot become one: its rest is
/// taken by blocks that are never used (address space, no memory) and allocation goes on at
/// the next huge page. A large render fills that page anyway (at 18,000 documents the peak
/// grows by under 1 MB of 55).
/// Nothing is advised when the heap is not laid out as expected (another allocator, a heap
/// shared with another thread).
pub fn huge_heap_start() -> Option<usize> {
    // Below glibc's threshold for mapping a block by itself (128 KiB), so taken from the heap.
    const PIECE: usize = 120 << 10;
    // Where the block after a block of `size` bytes at `at` starts: one chunk later, a chunk
    // being the block and glibc's 8-byte size field, rounded up to 16 bytes.
    let after = |at: usize, size: usize| at + ((size + 8 + 15) & !15);
    // SAFETY: malloc and free of blocks this function owns (the placeholders are never
    // freed, on purpose); madvise only gives the kernel a hint about this process's pages.
    unsafe {
        let first = libc::malloc(PIECE);
        let at = first as usize;
        // A new thread's heap has little in it yet.
        if first.is_null() || at % THREAD_HEAP > HUGE_PAGE / 4 {
            libc::free(first);
            return None;
        }
        let huge = at - at % THREAD_HEAP + HUGE_PAGE;
        // Where the heap's unused end starts: blocks are cut from it in order.
        let mut next = after(at, PIECE);
        // A block may come from a freed one instead; it is kept too, and the loop goes on.
        for _ in 0..64 {
            if next >= huge {
                break;
            }
            let room = huge - next;
            // The last block fills the room exactly (its size with the header is `room`).
            let size = if room > PIECE + 8192 { PIECE } else { room - 8 };
            let block = libc::malloc(size);
            if block.is_null() {
                return None;
            }
            if block as usize == next {
                next = after(next, size);
            }
        }
        // The next block must start right at the boundary.
        if next != huge {
            return None;
        }
        // Before anything touches the span: a page touched first is a small one.
        libc::madvise(huge as *mut libc::c_void, HUGE_SPAN, libc::MADV_HUGEPAGE);
        // A probe from a freed block elsewhere is kept, as the placeholders are.
        let placed = (0..8).any(|_| {
            let probe = libc::malloc(PIECE);
            let here = !probe.is_null() && probe as usize == huge;
            if here {
                libc::free(probe);
            }
            here
        });
        placed.then_some(huge)
    }
}

/// Sets the ceiling: `AETHER_CHART_MEMORY_LIMIT` bytes when set, else half the machine's
/// memory, at least 1 GiB and at most 8 GiB; a lower data limit already in force stays.
/// `threads` worker threads with stacks of `stack` bytes are running: their stacks and heaps
/// are mapped whole, so their reserve is added to the limit.
pub fn set_ceiling(threads: usize, stack: usize) {
    let per_thread = (stack as u64).saturating_add(HEAP_GROWTH as u64);
    let reserved = (threads as u64)
        .saturating_mul(per_thread)
        .saturating_add(HEADROOM);
    let ceiling = match std::env::var(CEILING_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(bytes) => bytes.max(64 << 20),
        None => half_the_memory(),
    };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct passed, nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_DATA, &mut limit) != 0 {
            return;
        }
        let wanted = ceiling.saturating_add(reserved).min(limit.rlim_max);
        if wanted < limit.rlim_cur {
            let starting = limit.rlim_cur;
            limit.rlim_cur = wanted;
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) == 0 {
                let _ = STARTING_LIMIT.set(starting);
            }
        }
    }
}

/// Half the machine's memory, at least 1 GiB and at most 8 GiB.
fn half_the_memory() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 for names it does not know.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages <= 0 || page <= 0 {
        return MAX_CEILING;
    }
    let half = (pages as u128 * page as u128 / 2).min(MAX_CEILING as u128) as u64;
    half.max(1 << 30)
}

/// Gives a program `command` runs (a post-renderer) the data limit this process started
/// with, not the ceiling set for the render.
pub fn inherit_limit(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let Some(&starting) = STARTING_LIMIT.get() else {
        return;
    };
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // getrlimit and setrlimit, which are async-signal-safe, on its own stack.
    unsafe {
        command.pre_exec(move || {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_DATA, &mut limit) == 0 {
                limit.rlim_cur = starting.min(limit.rlim_max);
                libc::setrlimit(libc::RLIMIT_DATA, &limit);
            }
            Ok(())
        });
    }
}

/// Ends the run: the input needs more memory than the ceiling allows. Nothing here may
/// allocate.
fn exhausted() -> ! {
    const MESSAGE: &[u8] = b"Error: this input needs more memory than aether-chart allows itself \
        (half of the machine's, at most 8 GiB, or AETHER_CHART_MEMORY_LIMIT bytes); a template \
        or value that grows without bound? Nothing was written.\n";
    // SAFETY: writing a static buffer to stderr and ending the process without unwinding.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(2)
    }
}

/// Blocks of at most this many bytes, aligned to at most [`STEP`], are kept for reuse.
const SMALL: usize = 512;
/// The size classes are multiples of this many bytes (which `malloc` aligns to).
const STEP: usize = 16;
/// How many freed blocks of one size class a thread keeps.
const KEPT: u32 = 256;

/// The freed blocks of one size class a thread keeps: a list linked through their first
/// bytes.
#[derive(Clone, Copy)]
struct Bin {
    head: *mut u8,
    count: u32,
}

thread_local! {
    /// This thread's kept blocks, by size class. (Constant and without a destructor, so it is
    /// there for every allocation, also while the thread ends; what it holds then is left to
    /// the exit.)
    static BINS: std::cell::UnsafeCell<[Bin; SMALL / STEP]> = const {
        std::cell::UnsafeCell::new([Bin { head: std::ptr::null_mut(), count: 0 }; SMALL / STEP])
    };
}

/// The size class of a block of `size` bytes aligned to `align`, when it is kept: blocks of
/// class `c` hold `(c + 1) * STEP` bytes.
fn class_of(size: usize, align: usize) -> Option<usize> {
    (size > 0 && size <= SMALL && align <= STEP).then(|| (size - 1) / STEP)
}

/// The layout a block of `class` is allocated with.
fn class_layout(class: usize) -> Layout {
    // SAFETY: STEP is a power of two and the size, at most SMALL, cannot overflow.
    unsafe { Layout::from_size_align_unchecked((class + 1) * STEP, STEP) }
}

/// A block of `class`: a kept one, or a new one from `malloc` (null when that fails).
fn take(class: usize) -> *mut u8 {
    BINS.with(|bins| {
        // SAFETY: the bins are this thread's alone, and nothing below reenters the allocator
        // while this borrow lives.
        let bin = unsafe { &mut (*bins.get())[class] };
        let head = bin.head;
        if head.is_null() {
            // SAFETY: the layout has a nonzero size.
            return unsafe { System.alloc(class_layout(class)) };
        }
        // SAFETY: a kept block holds the next one's address in its first bytes (see `keep`).
        bin.head = unsafe { head.cast::<*mut u8>().read() };
        bin.count -= 1;
        head
    })
}

/// Keeps the block `pointer` of `class`, or frees it when the bin is full.
///
/// # Safety
/// `pointer` is a block of `class` no longer in use.
unsafe fn keep(pointer: *mut u8, class: usize) {
    BINS.with(|bins| {
        // SAFETY: as in `take`.
        let bin = unsafe { &mut (*bins.get())[class] };
        if bin.count < KEPT {
            // SAFETY: the block holds at least STEP bytes, aligned for a pointer.
            unsafe { pointer.cast::<*mut u8>().write(bin.head) };
            bin.head = pointer;
            bin.count += 1;
        } else {
            // SAFETY: the block came from `malloc` with the layout of its class.
            unsafe { System.dealloc(pointer, class_layout(class)) };
        }
    })
}

// SAFETY: blocks are the system allocator's; a kept block is handed out again only for a
// request its class holds, and only once (it leaves its bin).
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = match class_of(layout.size(), layout.align()) {
            Some(class) => take(class),
            // SAFETY: the caller's layout, as the trait requires.
            None => unsafe { System.alloc(layout) },
        };
        if pointer.is_null() {
            exhausted();
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = match class_of(layout.size(), layout.align()) {
            Some(class) => {
                let pointer = take(class);
                if !pointer.is_null() {
                    // SAFETY: the block holds at least `layout.size()` bytes.
                    unsafe { std::ptr::write_bytes(pointer, 0, layout.size()) };
                }
                pointer
            }
            // SAFETY: the caller's layout, as the trait requires.
            None => unsafe { System.alloc_zeroed(layout) },
        };
        if pointer.is_null() {
            exhausted();
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        match class_of(layout.size(), layout.align()) {
            // SAFETY: a block of this layout was handed out as a block of its class.
            Some(class) => unsafe { keep(pointer, class) },
            // SAFETY: the caller's pointer and layout, as the trait requires.
            None => unsafe { System.dealloc(pointer, layout) },
        }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = class_of(layout.size(), layout.align());
        if old.is_none() && class_of(new_size, layout.align()).is_none() {
            // SAFETY: the caller's pointer, layout and size, as the trait requires.
            let moved = unsafe { System.realloc(pointer, layout, new_size) };
            if moved.is_null() {
                exhausted();
            }
            return moved;
        }
        // A kept-size block that still holds the new size stays (a smaller class is served
        // by a larger block).
        if let Some(class) = old
            && new_size <= (class + 1) * STEP
        {
            return pointer;
        }
        // SAFETY: the new layout is valid (the trait promises the rounded size fits); the old
        // block holds `layout.size()` bytes, the new one `new_size`, and they do not overlap.
        unsafe {
            let new = Layout::from_size_align_unchecked(new_size, layout.align());
            let moved = self.alloc(new);
            std::ptr::copy_nonoverlapping(pointer, moved, layout.size().min(new_size));
            self.dealloc(pointer, layout);
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a worker thread with a heap of its own, the blocks after the placeholders lie in
    /// the advised span, and the kernel takes that span for huge pages when it offers them.
    /// Checked in a process of its own, as the program starts its workers: here, threads
    /// other tests ended leave their heaps, made before the heaps were tuned, to new threads.
    #[test]
    fn a_workers_blocks_start_in_the_huge_span() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "memory::tests::workers_heaps_in_a_new_process",
                "--ignored",
                "--test-threads=1",
            ])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("1 passed"), "the check did not run: {said}");
    }

    #[test]
    #[ignore = "run by a_workers_blocks_start_in_the_huge_span, in a process of its own"]
    fn workers_heaps_in_a_new_process() {
        // As the program does: heaps are mapped writable 32 MiB at a time, so the huge span
        // is one mapping.
        tune_heaps();
        let spans = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = spans.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .start_handler(move |_| recorded.lock().unwrap().push(huge_heap_start()))
            .build()
            .unwrap();
        let blocks = pool.broadcast(|_| {
            let block = vec![7u8; 1000];
            let at = block.as_ptr() as usize;
            (at, eligible(at))
        });
        drop(pool);
        let spans: Vec<usize> = spans.lock().unwrap().iter().flatten().copied().collect();
        assert!(!spans.is_empty(), "no worker had a heap of its own");
        let offered = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .is_ok_and(|mode| !mode.contains("[never]"));
        for span in spans {
            let (at, eligible) = blocks
                .iter()
                .find(|(at, _)| (span..span + HUGE_SPAN).contains(at))
                .unwrap_or_else(|| panic!("no block in the span at {span:x}: {blocks:x?}"));
            if offered {
                assert_eq!(*eligible, Some(true), "{at:x} is not backed by huge pages");
            }
        }
    }

    /// Whether the kernel may back the mapping holding `address` with huge pages, from
    /// `/proc/self/smaps`.
    fn eligible(address: usize) -> Option<bool> {
        let maps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in maps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((from, to)) = range.split_once('-')
                && let (Ok(from), Ok(to)) = (
                    usize::from_str_radix(from, 16),
                    usize::from_str_radix(to, 16),
                )
            {
                inside = (from..to).contains(&address);
            } else if inside && let Some(flag) = line.strip_prefix("THPeligible:") {
                return Some(flag.trim() == "1");
            }
        }
        None
    }

    /// Blocks of every small size and some large ones, grown and shrunk across classes, keep
    /// their bytes, and a kept block is handed out again.
    #[test]
    fn kept_blocks_hold_their_bytes_across_classes() {
        let allocator = Bounded;
        let fill = |pointer: *mut u8, len: usize, seed: u8| {
            for i in 0..len {
                // SAFETY: the block holds `len` bytes.
                unsafe { pointer.add(i).write(seed.wrapping_add(i as u8)) };
            }
        };
        let holds = |pointer: *mut u8, len: usize, seed: u8| {
            // SAFETY: the block holds `len` bytes.
            (0..len).all(|i| unsafe { pointer.add(i).read() } == seed.wrapping_add(i as u8))
        };
        let sizes = [
            1usize, 8, 15, 16, 17, 100, 255, 511, 512, 513, 1000, 4096, 100_000,
        ];
        for (n, &size) in sizes.iter().enumerate() {
            for &align in &[1usize, 8, 16, 32] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let seed = n as u8;
                // SAFETY: valid layouts; every pointer is used within its block and freed once.
                unsafe {
                    let mut pointer = allocator.alloc(layout);
                    assert_eq!(pointer as usize % align, 0);
                    fill(pointer, size, seed);
                    for &to in &sizes {
                        let to_layout = Layout::from_size_align(to, align).unwrap();
                        let moved = allocator.realloc(pointer, layout, to);
                        assert_eq!(moved as usize % align, 0);
                        assert!(
                            holds(moved, size.min(to), seed),
                            "{size} -> {to}, align {align}"
                        );
                        fill(moved, to, seed);
                        pointer = allocator.realloc(moved, to_layout, size);
                        assert!(
                            holds(pointer, size.min(to), seed),
                            "{to} -> {size}, align {align}"
                        );
                        fill(pointer, size, seed);
                        let zeroed = allocator.alloc_zeroed(to_layout);
                        assert!((0..to).all(|i| zeroed.add(i).read() == 0));
                        fill(zeroed, to, seed.wrapping_add(1));
                        allocator.dealloc(zeroed, to_layout);
                        assert!(holds(pointer, size, seed));
                    }
                    allocator.dealloc(pointer, layout);
                }
            }
        }
        // A freed small block is the next one of its class, and only once.
        let layout = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: valid layouts, each block freed once.
        unsafe {
            let first = allocator.alloc(layout);
            allocator.dealloc(first, layout);
            let again = allocator.alloc(Layout::from_size_align(48, 8).unwrap());
            assert_eq!(first, again);
            let other = allocator.alloc(layout);
            assert_ne!(other, again);
            allocator.dealloc(other, layout);
            allocator.dealloc(again, Layout::from_size_align(48, 8).unwrap());
        }
    }
}
