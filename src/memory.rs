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

// SAFETY: every call is passed to the system allocator unchanged; only the failure is handled.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, as the trait requires.
        let pointer = unsafe { System.alloc(layout) };
        if pointer.is_null() {
            exhausted();
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
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
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's pointer, layout and size, as the trait requires.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if moved.is_null() {
            exhausted();
        }
        moved
    }
}
