//! Blocking wake-ups for [`WaitStrategy::Block`](super::WaitStrategy::Block): a thread with
//! nothing to do sleeps in the kernel until a producer rings its [`Doorbell`], its sockets
//! become readable, or a timeout passes.
//!
//! When threads outnumber cores, a spinning or yielding idle thread takes CPU from the
//! threads on the critical path, and a sleeping one (`park`) wakes late. A blocked thread
//! costs nothing until it is woken, and is woken as soon as there is work for it.
//!
//! # The protocol (no lost wake-up)
//! The waiter ([`Sleeper`]) and a producer ([`Doorbell`]) share one `sleeping` flag.
//! - Waiter: [`Sleeper::arm`] sets `sleeping` (then a `SeqCst` fence), the caller checks
//!   for work once more, and only if there is none calls [`Sleeper::sleep`].
//! - Producer: makes the work visible (publishes into the ring), then [`Doorbell::ring`]:
//!   a `SeqCst` fence, then reads `sleeping`; if set, it clears it and wakes the waiter.
//!
//! The two fences order "set flag → look for work" against "publish work → look at
//! flag": either the waiter's last check sees the work, or the producer sees the flag and
//! wakes it. A wake-up sent between the check and the sleep is not lost either: both
//! mechanisms keep it (a thread's park token; an eventfd's counter), so the sleep returns
//! at once. Sleeps also end at a timeout, a safety net for anything that does not ring
//! (a clock deadline, a stop flag set from a signal handler, a full socket buffer).
//!
//! # Mechanisms
//! A thread that watches no file descriptor (the core, the timer, the simulated venue)
//! parks (`std::thread::park_timeout`, a futex on Linux); a ring unparks it. A gateway that
//! [watches](Sleeper::watch) its sockets (Linux only) blocks in `epoll_wait` on them plus an
//! eventfd that a ring writes. `epoll_wait` counts its timeout in whole milliseconds: such
//! a gateway's timeout is rounded up to the next millisecond (socket gateways have no
//! sub-millisecond deadlines). Elsewhere than Linux, watching is a no-op and a socket
//! gateway sees its sockets at most one timeout late.
//!
//! Ringing costs one fence and one load when nobody sleeps, and one syscall when somebody
//! does.

use crossbeam::utils::CachePadded;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

struct Shared {
    sleeping: CachePadded<AtomicBool>,
    /// The waiting thread, set by the [`Sleeper`] on its thread before it first arms.
    thread: OnceLock<std::thread::Thread>,
    /// The eventfd the waiter blocks on beside its sockets, once it watches any.
    #[cfg(target_os = "linux")]
    event: OnceLock<std::os::fd::OwnedFd>,
}

impl Shared {
    fn wake(&self) {
        #[cfg(target_os = "linux")]
        if self.wake_event() {
            return;
        }
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }

    /// Writes the eventfd, if there is one; says whether there was.
    #[cfg(target_os = "linux")]
    fn wake_event(&self) -> bool {
        let Some(fd) = self.event.get() else { return false };
        use std::os::fd::AsRawFd;
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an eventfd this struct owns. A failure
        // can only be EAGAIN (the counter is saturated, so the waiter wakes anyway).
        unsafe {
            libc::write(fd.as_raw_fd(), (&raw const one).cast(), 8);
        }
        true
    }
}

/// The producer's side: rings to wake the waiter. Cheap to clone.
#[derive(Clone)]
pub struct Doorbell {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doorbell")
            .field("sleeping", &self.shared.sleeping.load(Ordering::Relaxed))
            .finish()
    }
}

impl Doorbell {
    /// Wakes the waiter if it sleeps or is about to. Call after making the work visible.
    #[inline]
    pub fn ring(&self) {
        // Orders the caller's publish before the load of the flag (see the module docs).
        fence(Ordering::SeqCst);
        if self.shared.sleeping.load(Ordering::Relaxed)
            && self.shared.sleeping.swap(false, Ordering::AcqRel)
        {
            self.shared.wake();
        }
    }
}

/// The waiter's side, owned by the one thread that sleeps on it.
pub struct Sleeper {
    shared: Arc<Shared>,
    armed: bool,
    #[cfg(target_os = "linux")]
    epoll: Option<std::os::fd::OwnedFd>,
}

impl std::fmt::Debug for Sleeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleeper").field("armed", &self.armed).finish()
    }
}

/// How a watched descriptor wakes its sleeper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// While it is readable (a connection: data left unread wakes it again).
    Level,
    /// When it becomes readable (a listener accepted on a schedule of its own).
    Edge,
}

/// A pair: the waiter's [`Sleeper`] and the producers' [`Doorbell`].
pub fn doorbell() -> (Sleeper, Doorbell) {
    let shared = Arc::new(Shared {
        sleeping: CachePadded::new(AtomicBool::new(false)),
        thread: OnceLock::new(),
        #[cfg(target_os = "linux")]
        event: OnceLock::new(),
    });
    (
        Sleeper {
            shared: Arc::clone(&shared),
            armed: false,
            #[cfg(target_os = "linux")]
            epoll: None,
        },
        Doorbell { shared },
    )
}

impl Sleeper {
    /// True between [`Sleeper::arm`] and the next sleep or disarm.
    #[inline]
    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// Announces that this thread is about to sleep. The caller must check for work once
    /// more before [`Sleeper::sleep`], and [`Sleeper::disarm`] if it finds some.
    #[inline]
    pub fn arm(&mut self) {
        if self.shared.thread.get().is_none() {
            let _ = self.shared.thread.set(std::thread::current());
        }
        self.armed = true;
        self.shared.sleeping.store(true, Ordering::Relaxed);
        // Orders the flag before the caller's last look for work.
        fence(Ordering::SeqCst);
    }

    /// Work was found after arming: producers need not wake us.
    #[inline]
    pub fn disarm(&mut self) {
        if self.armed {
            self.armed = false;
            self.shared.sleeping.store(false, Ordering::Relaxed);
        }
    }

    /// Sleeps until rung, a watched descriptor is ready, or `timeout` passes (spurious
    /// returns are possible; the caller looks for work again). Must follow [`Sleeper::arm`]
    /// and a last look that found nothing.
    pub fn sleep(&mut self, timeout: Duration) {
        debug_assert!(self.armed, "sleep without arm can lose a wake-up");
        if !timeout.is_zero() {
            #[cfg(target_os = "linux")]
            if let Some(epoll) = &self.epoll {
                epoll_sleep(epoll, self.shared.event.get(), timeout);
                self.disarm();
                return;
            }
            super::wait::tighten_timer_slack();
            std::thread::park_timeout(timeout);
        }
        self.disarm();
    }

    /// True once it [watches](Sleeper::watch) sockets (Linux): its thread polls them, a
    /// system call each, every idle round.
    #[inline]
    pub fn watches(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.epoll.is_some();
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// Wakes this sleeper also when `fd` is readable (Linux; elsewhere a no-op: the
    /// sleeper sees the descriptor at its timeout). The descriptor leaves the set when it
    /// is closed, or by [`Sleeper::unwatch`].
    #[cfg(unix)]
    pub fn watch(&mut self, fd: std::os::fd::RawFd, trigger: Trigger) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let epoll = self.epoll()?.as_raw_fd();
            let mut events = libc::EPOLLIN as u32;
            if trigger == Trigger::Edge {
                events |= libc::EPOLLET as u32;
            }
            let mut ev = libc::epoll_event { events, u64: fd as u64 };
            // SAFETY: `epoll` is an open epoll descriptor owned by self; `ev` is a live
            // epoll_event the kernel only reads.
            let rc = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut ev) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EEXIST) {
                    return Err(e);
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (fd, trigger);
        Ok(())
    }

    /// Stops watching `fd` (closing it does so too).
    #[cfg(unix)]
    pub fn unwatch(&mut self, fd: std::os::fd::RawFd) {
        #[cfg(target_os = "linux")]
        if let Some(epoll) = &self.epoll {
            use std::os::fd::AsRawFd;
            let mut ev = libc::epoll_event { events: 0, u64: 0 };
            // SAFETY: as in `watch`; an fd that is not in the set only gives ENOENT.
            unsafe {
                libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = fd;
    }

    /// The epoll set, made with the eventfd in it on first use.
    #[cfg(target_os = "linux")]
    fn epoll(&mut self) -> std::io::Result<&std::os::fd::OwnedFd> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        if self.epoll.is_none() {
            // SAFETY: plain syscalls returning new descriptors, owned at once.
            let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if epoll < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `epoll` is a new descriptor nobody else owns.
            let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
            // SAFETY: as above.
            let event = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if event < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `event` is a new descriptor nobody else owns.
            let event = unsafe { OwnedFd::from_raw_fd(event) };
            let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: u64::MAX };
            // SAFETY: both descriptors are open and owned here; `ev` is only read.
            let rc = unsafe {
                libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, event.as_raw_fd(), &mut ev)
            };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Only this sleeper sets it. A ring that came before (while this thread was
            // armed, say, and watched a socket from its last look for work) unparked the
            // thread instead, which an epoll sleep does not see: the first epoll sleep is
            // made to return at once, so the caller looks for that work again.
            if self.shared.event.set(event).is_err() {
                return Err(std::io::Error::other("the doorbell already has an eventfd"));
            }
            self.epoll = Some(epoll);
            self.shared.wake_event();
        }
        Ok(self.epoll.as_ref().expect("made above"))
    }
}

/// Blocks in `epoll_wait` up to `timeout` (rounded up to whole ms), then empties the
/// eventfd so the next sleep blocks again.
#[cfg(target_os = "linux")]
fn epoll_sleep(
    epoll: &std::os::fd::OwnedFd,
    event: Option<&std::os::fd::OwnedFd>,
    timeout: Duration,
) {
    use std::os::fd::AsRawFd;
    let ms = timeout.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
    let mut ready = [libc::epoll_event { events: 0, u64: 0 }; 8];
    // SAFETY: `ready` is a live array of 8 epoll_events the kernel writes at most 8 of.
    let n = unsafe { libc::epoll_wait(epoll.as_raw_fd(), ready.as_mut_ptr(), 8, ms) };
    let rung = n > 0 && ready[..n as usize].iter().any(|e| e.u64 == u64::MAX);
    if let (true, Some(fd)) = (rung, event) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from a non-blocking eventfd owned by the
        // doorbell; EAGAIN (already emptied) is harmless.
        unsafe {
            libc::read(fd.as_raw_fd(), (&raw mut count).cast(), 8);
        }
    }
}

/// Waits until `fd` is readable or `timeout` passes (`ppoll`, nanosecond timeout), for a
/// client loop that blocks on its one socket between due times. Returns at once for a
/// zero timeout. Elsewhere than Linux it sleeps for the timeout.
#[cfg(unix)]
pub fn wait_readable(fd: std::os::fd::RawFd, timeout: Duration) {
    if timeout.is_zero() {
        return;
    }
    super::wait::tighten_timer_slack();
    #[cfg(target_os = "linux")]
    {
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: one live pollfd and a live timespec, both only for the call's duration;
        // no signal mask is passed.
        unsafe {
            libc::ppoll(&mut pfd, 1, &ts, std::ptr::null());
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        std::thread::sleep(timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::time::Instant;

    /// The waiter's loop as the pipeline runs it: look for work; if none, arm, look
    /// again, then sleep. `rounds` values are published one at a time, each only after
    /// the waiter has taken the previous one, so every round ends in a wake-up: a lost
    /// one leaves the waiter asleep with work pending, and only the long timeout would
    /// end that sleep. The test asserts every round completes and that the waiter never
    /// needed the timeout.
    fn ping_pong(watch_socket: bool) {
        const ROUNDS: u64 = 20_000;
        // Long enough that a lost wake-up is seen as a stall of the whole test.
        const SAFETY: Duration = Duration::from_secs(5);
        let value = Arc::new(AtomicU64::new(0));
        let taken = Arc::new(AtomicU64::new(0));
        let (mut sleeper, bell) = doorbell();
        let (v, t) = (Arc::clone(&value), Arc::clone(&taken));
        let waiter = std::thread::spawn(move || {
            #[cfg(target_os = "linux")]
            let _keep = if watch_socket {
                // A socket that never becomes readable: the epoll path, rung by eventfd.
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                use std::os::fd::AsRawFd;
                sleeper.watch(l.as_raw_fd(), Trigger::Level).unwrap();
                Some(l)
            } else {
                None
            };
            let mut timeouts = 0u64;
            let mut seen = 0;
            while seen < ROUNDS {
                let now = v.load(Ordering::Acquire);
                if now > seen {
                    sleeper.disarm();
                    seen = now;
                    t.store(seen, Ordering::Release);
                    continue;
                }
                if !sleeper.is_armed() {
                    sleeper.arm();
                    continue;
                }
                let before = Instant::now();
                sleeper.sleep(SAFETY);
                if before.elapsed() >= SAFETY {
                    timeouts += 1;
                }
            }
            timeouts
        });
        let give_up = Instant::now() + Duration::from_secs(120);
        for i in 1..=ROUNDS {
            value.store(i, Ordering::Release);
            bell.ring();
            while taken.load(Ordering::Acquire) < i {
                assert!(Instant::now() < give_up, "round {i} never taken: a lost wake-up");
                std::thread::yield_now();
            }
        }
        let timeouts = waiter.join().unwrap();
        assert_eq!(timeouts, 0, "the waiter slept through a ring {timeouts} times");
    }

    #[test]
    fn no_lost_wake_up_when_parked() {
        ping_pong(false);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn no_lost_wake_up_in_epoll() {
        ping_pong(true);
    }

    /// A ring that came while the sleeper still parked (before it watched its first
    /// socket, which moves it to epoll) is not lost: the first epoll sleep returns.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_ring_before_the_first_watch_is_not_lost() {
        use std::os::fd::AsRawFd;
        let (mut sleeper, bell) = doorbell();
        sleeper.arm();
        bell.ring(); // unparks this thread: no eventfd yet
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        sleeper.watch(l.as_raw_fd(), Trigger::Edge).unwrap();
        let before = Instant::now();
        sleeper.sleep(Duration::from_secs(60));
        assert!(before.elapsed() < Duration::from_secs(60), "slept through the ring");
    }

    /// A watched socket wakes the sleeper without any ring.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_readable_socket_wakes_the_sleeper() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        let (mut sleeper, _bell) = doorbell();
        sleeper.watch(server.as_raw_fd(), Trigger::Level).unwrap();
        client.write_all(b"x").unwrap();
        // Readable: returns long before the 60 s timeout (a hang here fails the test
        // through the harness's own timeout).
        sleeper.arm();
        let before = Instant::now();
        sleeper.sleep(Duration::from_secs(60));
        assert!(before.elapsed() < Duration::from_secs(60));
        assert!(!sleeper.is_armed());
    }
}
