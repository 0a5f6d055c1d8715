//! A ceiling on the memory one run may hold, so hostile input ends in a clear error instead
//! of an abort or the kernel's out-of-memory killer.
//!
//! Every width, count and size a chart controls is checked where it is used (template filters,
//! archive and file limits, network caps). What no argument check can see, such as a template
//! that doubles a string forty times with `~`, meets this allocator: past the ceiling it prints
//! one line and exits with code 2, having written nothing (output goes out only after a whole
//! render succeeded, and files are written through temporary names).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator with a ceiling on the bytes live at once.
pub struct Bounded;

/// Bytes allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The ceiling; [`set_ceiling`] lowers it from the default.
static CEILING: AtomicUsize = AtomicUsize::new(DEFAULT_CEILING);

/// The ceiling before [`set_ceiling`] runs: 8 GiB.
const DEFAULT_CEILING: usize = 8 << 30;

/// The environment variable that sets the ceiling in bytes (for tests, and for a trusted input
/// that needs more).
pub const CEILING_VARIABLE: &str = "AETHER_CHART_MEMORY_LIMIT";

/// How much the C allocator's heaps grow by at a time. glibc's default (128 KiB) makes a
/// worker thread's heap grow by hundreds of small `mprotect` calls during one render; the
/// address space this reserves is not touched, so it costs no memory.
const HEAP_GROWTH: libc::c_int = 32 << 20;

/// Sets the ceiling: `AETHER_CHART_MEMORY_LIMIT` bytes when set, else half the machine's
/// memory, at least 1 GiB and at most 8 GiB. Also sets how the heaps grow.
pub fn set_ceiling() {
    // SAFETY: mallopt only changes a tunable of the allocator; nothing has allocated yet.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, HEAP_GROWTH);
    }
    if let Some(bytes) = std::env::var(CEILING_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        CEILING.store(bytes.max(64 << 20), Ordering::Relaxed);
        return;
    }
    // SAFETY: sysconf has no preconditions; it returns -1 for names it does not know.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && page > 0 {
        let half = (pages as u128 * page as u128 / 2).min(DEFAULT_CEILING as u128) as usize;
        CEILING.store(half.max(1 << 30), Ordering::Relaxed);
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

/// Counts `size` more bytes, or ends the run when that passes the ceiling.
fn reserve(size: usize) {
    let before = LIVE.fetch_add(size, Ordering::Relaxed);
    if before.saturating_add(size) > CEILING.load(Ordering::Relaxed) {
        exhausted();
    }
}

// SAFETY: every call is passed to the system allocator unchanged; only counting is added.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        // SAFETY: the caller's layout, as the trait requires.
        let pointer = unsafe { System.alloc(layout) };
        if pointer.is_null() {
            exhausted();
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        // SAFETY: the caller's layout, as the trait requires.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if pointer.is_null() {
            exhausted();
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's pointer and layout, as the trait requires.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            reserve(new_size - layout.size());
        }
        // SAFETY: the caller's pointer, layout and size, as the trait requires.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if moved.is_null() {
            exhausted();
        }
        if new_size < layout.size() {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        moved
    }
}
