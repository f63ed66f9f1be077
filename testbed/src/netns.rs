//! Network namespaces for tests and the lab.

use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Moves the calling thread into a new, empty network namespace with `lo` up.
///
/// Threads spawned afterwards and child processes (the reference ipvsadm)
/// inherit it; other threads of the process stay where they were. The IPVS
/// table is per namespace, so each test gets an empty one.
///
/// # Panics
/// When the namespace cannot be created (not root, no `CAP_SYS_ADMIN`): a
/// kernel test must fail loudly rather than touch the host's table.
pub fn enter_fresh() {
    if let Err(e) = try_enter_fresh() {
        panic!(
            "cannot enter a fresh network namespace ({e}); kernel tests run as root in the \
             test VM: `cargo test` does that through tests/vm/runner"
        );
    }
}

/// [`enter_fresh`], returning the error instead of panicking.
///
/// # Errors
/// `unshare(2)`'s error, or the failure to bring `lo` up.
pub fn try_enter_fresh() -> io::Result<()> {
    // SAFETY: unshare only changes the calling thread's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let ns = File::open("/proc/thread-self/ns/net")?;
    ENTERED.with(|entered| entered.borrow_mut().0.push(ns));
    ip(&["link", "set", "lo", "up"])
}

/// The namespaces a thread made with [`enter_fresh`], emptied of IPVS
/// services when the thread (a test) ends.
///
/// A dying namespace's services are deleted later by a kernel worker, and
/// every deletion moves the position of dumps running in other namespaces
/// (the kernel counts it over all of them): the next test's dump could skip
/// a service. Deleted here, they are gone before the next test starts.
struct Entered(Vec<File>);

impl Drop for Entered {
    fn drop(&mut self) {
        // The thread is ending: it may move between namespaces freely.
        for ns in &self.0 {
            if enter(ns).is_ok() {
                flush_ipvs_here();
            }
        }
    }
}

thread_local! {
    static ENTERED: RefCell<Entered> = const { RefCell::new(Entered(Vec::new())) };
}

/// Deletes every IPVS service of the calling thread's namespace, if it has
/// any, with the reference ipvsadm (`-C`); best effort.
///
/// `/proc/thread-self/net/ip_vs` says whether there is anything to delete:
/// it is absent when the kernel has no IPVS (nothing to do, and ipvsadm
/// would try to load the module), and lists a service after its three
/// header lines. It is read in one `read(2)`: the kernel walks the table
/// in one go then, whereas a read that resumes counts its position over
/// every namespace's services and may skip some.
fn flush_ipvs_here() {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let has_services = match File::open("/proc/thread-self/net/ip_vs") {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(_) => true,
        Ok(mut file) => match file.read(&mut head) {
            Ok(n) => {
                head[..n]
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
                    > 3
            }
            Err(_) => true,
        },
    };
    if has_services {
        let _ = Command::new(crate::reference::path())
            .arg("-C")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Runs iproute2's `ip` with `args` in the calling thread's namespace.
///
/// # Errors
/// When `ip` cannot be run or exits non-zero (its stderr is in the message).
pub fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Creates a veth pair in the current namespace, both ends up, the first
/// with `addr` (CIDR). A sync daemon needs such a multicast-capable link.
///
/// # Errors
/// As [`ip`].
pub fn add_veth_pair(name: &str, peer: &str, addr: &str) -> io::Result<()> {
    ip(&["link", "add", name, "type", "veth", "peer", "name", peer])?;
    ip(&["addr", "add", addr, "dev", name])?;
    ip(&["link", "set", name, "up"])?;
    ip(&["link", "set", peer, "up"])
}

/// A named network namespace (`/run/netns/NAME`), deleted when dropped.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl Namespace {
    /// Creates a namespace named `PREFIX-PID-N` with `lo` up.
    ///
    /// # Errors
    /// As [`ip`].
    pub fn new(prefix: &str) -> io::Result<Self> {
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name])?;
        let ns = Self { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Creates the namespace `name` with `lo` up, after deleting any left
    /// over by an earlier run.
    ///
    /// # Errors
    /// As [`ip`].
    pub fn named(name: &str) -> io::Result<Self> {
        if std::path::Path::new(&format!("/run/netns/{name}")).exists() {
            ip(&["netns", "del", name])?;
        }
        ip(&["netns", "add", name])?;
        let ns = Self {
            name: name.to_owned(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Writes a sysctl of the namespace (`net.ipv4.ip_forward` is
    /// `net/ipv4/ip_forward`), from a thread inside it.
    ///
    /// # Errors
    /// When the thread cannot enter the namespace or the write fails.
    pub fn sysctl(&self, key: &str, value: &str) -> io::Result<()> {
        let path = format!("/proc/sys/{key}");
        self.run(|| std::fs::write(&path, value))?
            .map_err(|e| io::Error::other(format!("{path} in {}: {e}", self.name)))
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its file, for `setns(2)` or `ipvs::Ipvs::in_namespace`.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// Runs `ip ARGS` inside it.
    ///
    /// # Errors
    /// As [`ip`].
    pub fn ip(&self, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Runs `f` on a new thread inside the namespace and returns its result.
    ///
    /// # Errors
    /// When the thread cannot enter the namespace.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        let file = std::fs::File::open(self.path())?;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    enter(&file)?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the thread in the namespace panicked")))
        })
    }

    /// A command that runs inside the namespace (`ip netns exec NAME PROGRAM`).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Emptied first, for the reason `Entered` gives.
        let _ = self.run(flush_ipvs_here);
        // Best effort: a namespace left behind only costs memory in the VM.
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Moves the calling thread into the namespace of `file`.
///
/// # Errors
/// `setns(2)`'s error.
pub fn enter(file: &std::fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setns on a valid descriptor changes only the calling thread.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Creates a veth pair between the current namespace and `peer`: `local`
/// here with `local_addr`, `remote` there with `remote_addr` (both CIDR), up.
///
/// # Errors
/// As [`ip`].
pub fn link_to(
    peer: &Namespace,
    local: &str,
    local_addr: &str,
    remote: &str,
    remote_addr: &str,
) -> io::Result<()> {
    ip(&[
        "link",
        "add",
        local,
        "type",
        "veth",
        "peer",
        "name",
        remote,
        "netns",
        peer.name(),
    ])?;
    ip(&["addr", "add", local_addr, "dev", local])?;
    ip(&["link", "set", local, "up"])?;
    peer.ip(&["addr", "add", remote_addr, "dev", remote])?;
    peer.ip(&["link", "set", remote, "up"])
}

/// The inode of the calling thread's network namespace, to tell namespaces apart.
///
/// # Errors
/// When `/proc/thread-self/ns/net` cannot be read.
pub fn current_inode() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

/// Drops `CAP_NET_ADMIN` from the calling thread's effective capabilities
/// (other threads keep theirs), to see what an unprivileged caller gets.
///
/// # Errors
/// `capget`/`capset`'s error.
pub fn drop_net_admin_on_this_thread() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    const CAP_NET_ADMIN: u32 = 12;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget/capset with a version-3 header and two data structs.
    unsafe {
        if libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        data[0].effective &= !(1 << CAP_NET_ADMIN);
        if libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
