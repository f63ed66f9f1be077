//! The checker runtime at scale (issue 11, "Scale and speed"): 10,000
//! TCP_CHECK and 10,000 HTTP_GET checkers (`ipvsd::check::Runner`, native
//! timing: a 1 s delay loop, warmup over the delay loop, 10 % jitter)
//! against listeners on loopback. Every address of 127.0.0.0/8 reaches a
//! listener bound to 0.0.0.0, so each checker has a real server of its own
//! (127.1.0.1, 127.1.0.2, ...). Host only, no root.
//!
//! After a settling time it measures a steady-state window:
//! - the CPU one second of checking costs: getrusage(RUSAGE_SELF) user +
//!   system per wall second (the fd sampler thread's own CPU taken out);
//! - peak memory, `VmHWM` of /proc/self/status, against the baseline before
//!   the first real server was added;
//! - the spread of check start times: each connection's arrival at the
//!   listeners, in 10 ms buckets of the delay loop, the busiest bucket
//!   against the mean;
//! - the most open file descriptors seen (/proc/self/fd, sampled every
//!   10 ms) against the runner's probes-in-flight limit.
//!
//! The listeners run in a child process (this program again, with
//! `IPVSD_BENCH_ROLE=listener`) so that their CPU, memory and descriptors are
//! not counted as the checkers'. It exits 1 when a check failed or when the
//! descriptors exceeded the limit (plus the baseline), as the claims under
//! test; it prints a table either way.
//!
//! ```sh
//! cargo bench -p ipvsd --bench checkers                       # 10,000 + 10,000
//! IPVSD_BENCH_SIZE=1000 cargo bench -p ipvsd --bench checkers # 1,000 + 1,000
//! ```
//! Settings (environment): `IPVSD_BENCH_SIZE` (both kinds), or
//! `IPVSD_BENCH_TCP` and `IPVSD_BENCH_HTTP` (default 10,000 each);
//! `IPVSD_BENCH_SECONDS`, the measured window (default 5);
//! `IPVSD_BENCH_DELAY_LOOP`, seconds (default 1); `IPVSD_BENCH_IN_FLIGHT`,
//! the probes-in-flight limit (default the runner's, 512).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ipvsd::check::{
    CheckerSpec, ConnectOptions, DEFAULT_JITTER, HttpCheck, HttpProtocol, KindDefaults, Probe,
    RealServerSpec, Runner, RunnerOptions, TcpCheck, Timing, UrlCheck,
};
use nix::sys::resource::{Resource, UsageWho, getrlimit, getrusage, setrlimit};
use nix::time::{ClockId, clock_gettime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The child's role marker.
const ROLE: &str = "IPVSD_BENCH_ROLE";
/// The width of a bucket of the check start histogram.
const BUCKET: Duration = Duration::from_millis(10);
/// Descriptors the process needs beside the probes: stdio, the runtime's
/// epoll and eventfd, the pipes to the listener, the sampler's directory.
const FD_MARGIN: u64 = 64;

fn main() -> ExitCode {
    let result = if std::env::var_os(ROLE).is_some() {
        listener()
    } else {
        bench()
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("checkers bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// What the bench is asked to do.
struct Settings {
    tcp: usize,
    http: usize,
    seconds: f64,
    delay_loop: Duration,
    in_flight: usize,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v}: not a number")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let both: Option<usize> = env_number("IPVSD_BENCH_SIZE")?;
        let size =
            |name| -> Result<usize, String> { Ok(env_number(name)?.or(both).unwrap_or(10_000)) };
        let seconds: f64 = env_number("IPVSD_BENCH_SECONDS")?.unwrap_or(5.0);
        let delay: f64 = env_number("IPVSD_BENCH_DELAY_LOOP")?.unwrap_or(1.0);
        if !(seconds.is_finite() && seconds > 0.0 && delay.is_finite() && delay > 0.0) {
            return Err("IPVSD_BENCH_SECONDS and IPVSD_BENCH_DELAY_LOOP must be > 0".into());
        }
        let settings = Settings {
            tcp: size("IPVSD_BENCH_TCP")?,
            http: size("IPVSD_BENCH_HTTP")?,
            seconds,
            delay_loop: Duration::from_secs_f64(delay),
            in_flight: env_number("IPVSD_BENCH_IN_FLIGHT")?
                .unwrap_or(RunnerOptions::default().max_in_flight),
        };
        // 254 hosts (.1 to .254) x 256 x 255 second bytes of 127.0.0.0/8.
        if settings.tcp + settings.http > 254 * 256 * 255 {
            return Err("more real servers than loopback addresses".into());
        }
        Ok(settings)
    }
}

/// The loopback address of real server `i`: 127.1.0.1, 127.1.0.2, ...,
/// skipping the .0 and .255 host bytes.
fn real_server_ip(i: usize) -> IpAddr {
    let host = (i % 254 + 1) as u8;
    let third = (i / 254 % 256) as u8;
    let second = (1 + i / (254 * 256)) as u8;
    IpAddr::V4(Ipv4Addr::new(127, second, third, host))
}

/// CLOCK_MONOTONIC, shared by this process and the listener child.
fn monotonic() -> Result<Duration, String> {
    let t = clock_gettime(ClockId::CLOCK_MONOTONIC).map_err(|e| format!("clock_gettime: {e}"))?;
    Ok(Duration::new(
        u64::try_from(t.tv_sec()).unwrap_or(0),
        u32::try_from(t.tv_nsec()).unwrap_or(0),
    ))
}

fn bucket_of(t: Duration) -> u64 {
    (t.as_nanos() / BUCKET.as_nanos()) as u64
}

/// User and system CPU time of `who`.
fn cpu(who: UsageWho) -> Result<(Duration, Duration), String> {
    let u = getrusage(who).map_err(|e| format!("getrusage: {e}"))?;
    let d = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    Ok((d(u.user_time()), d(u.system_time())))
}

/// A `kB` line of /proc/self/status, in KiB.
fn status_kib(key: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("/proc/self/status: no {key}"))
}

/// Open descriptors, not counting the one reading the directory.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| (d.count() as u64).saturating_sub(1))
}

/// Raises the soft open-files limit to `need` (at most the hard limit);
/// gives the soft limit before and after.
fn ensure_nofile(need: u64) -> Result<(u64, u64), String> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| format!("getrlimit: {e}"))?;
    if soft >= need {
        return Ok((soft, soft));
    }
    let new = need.min(hard);
    setrlimit(Resource::RLIMIT_NOFILE, new, hard).map_err(|e| format!("setrlimit: {e}"))?;
    Ok((soft, new))
}

/// Samples the open descriptors every 10 ms on a thread of its own,
/// keeping the most seen and its own CPU time (to take out of the
/// checkers').
struct FdSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    own_cpu_us: Arc<AtomicU64>,
    handle: std::thread::JoinHandle<()>,
}

impl FdSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let own_cpu_us = Arc::new(AtomicU64::new(0));
        let handle = std::thread::spawn({
            let (stop, max, own_cpu_us) = (stop.clone(), max.clone(), own_cpu_us.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    max.fetch_max(open_fds(), Ordering::Relaxed);
                    if let Ok((user, sys)) = cpu(UsageWho::RUSAGE_THREAD) {
                        own_cpu_us.store((user + sys).as_micros() as u64, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        });
        FdSampler {
            stop,
            max,
            own_cpu_us,
            handle,
        }
    }

    fn own_cpu(&self) -> Duration {
        Duration::from_micros(self.own_cpu_us.load(Ordering::Relaxed))
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.max.load(Ordering::Relaxed)
    }
}

/// The listener child: a TCP and an HTTP listener on 0.0.0.0, ports printed
/// as `ports TCP HTTP`; each connection's arrival is counted in its 10 ms
/// bucket; when stdin closes, the buckets are printed as
/// `BUCKET TCP HTTP` lines and it exits.
fn listener() -> Result<ExitCode, String> {
    // Connections are accepted and closed at once; the limit only matters
    // under a backlog burst.
    let _ = ensure_nofile(1 << 16);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(async {
        let bind = || -> Result<tokio::net::TcpListener, String> {
            let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
            socket.set_reuseaddr(true).map_err(|e| e.to_string())?;
            socket
                .bind(SocketAddr::from(([0, 0, 0, 0], 0)))
                .map_err(|e| e.to_string())?;
            // Up to the kernel's somaxconn: a start of many checks at once
            // must not overflow the queue.
            socket.listen(4096).map_err(|e| e.to_string())
        };
        let tcp = bind()?;
        let http = bind()?;
        let port = |l: &tokio::net::TcpListener| l.local_addr().map(|a| a.port());
        println!(
            "ports {} {}",
            port(&tcp).map_err(|e| e.to_string())?,
            port(&http).map_err(|e| e.to_string())?
        );
        std::io::stdout().flush().map_err(|e| e.to_string())?;

        // The parent closes our stdin when it is done: a thread waits for that.
        let (done_tx, mut done) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            let _ = done_tx.send(());
        });
        let mut buckets: BTreeMap<u64, [u32; 2]> = BTreeMap::new();
        loop {
            tokio::select! {
                _ = &mut done => break,
                Ok((stream, _)) = tcp.accept() => {
                    buckets.entry(bucket_of(monotonic()?)).or_default()[0] += 1;
                    drop(stream);
                }
                Ok((stream, _)) = http.accept() => {
                    buckets.entry(bucket_of(monotonic()?)).or_default()[1] += 1;
                    tokio::spawn(answer(stream));
                }
            }
        }
        let mut out = std::io::stdout().lock();
        for (bucket, [t, h]) in &buckets {
            writeln!(out, "{bucket} {t} {h}").map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The smallest HTTP server the checker accepts: reads the request head,
/// answers 200 with a short body, closes. (Written out rather than hyper's
/// server: the listener's own CPU should stay small beside the checkers'.)
async fn answer(mut stream: tokio::net::TcpStream) {
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream
        .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        .await;
    let _ = stream.shutdown().await;
}

/// The listener child and its ports.
struct Listeners {
    child: Child,
    tcp_port: u16,
    http_port: u16,
}

impl Listeners {
    fn start() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .env(ROLE, "listener")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("listener: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.as_mut().ok_or("listener: no stdout")?;
        // One byte at a time: the rest of its output is read after it ends.
        let mut byte = [0u8; 1];
        while !line.ends_with('\n') {
            match stdout.read(&mut byte) {
                Ok(1) => line.push(char::from(byte[0])),
                _ => return Err("listener: ended before its ports".into()),
            }
        }
        let mut words = line.split_whitespace().skip(1).map(str::parse::<u16>);
        match (words.next(), words.next()) {
            (Some(Ok(tcp_port)), Some(Ok(http_port))) => Ok(Listeners {
                child,
                tcp_port,
                http_port,
            }),
            _ => Err(format!("listener: bad ports line {line:?}")),
        }
    }

    /// Stops the child; its arrivals per bucket and its whole CPU time.
    fn finish(mut self) -> Result<(BTreeMap<u64, [u32; 2]>, Duration), String> {
        drop(self.child.stdin.take());
        let stdout = self.child.stdout.take().ok_or("listener: no stdout")?;
        let mut buckets = BTreeMap::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("listener: {e}"))?;
            let n: Vec<u64> = line
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| format!("listener: bad line {line:?}"))?;
            if let [bucket, t, h] = n[..] {
                buckets.insert(bucket, [t as u32, h as u32]);
            }
        }
        let status = self.child.wait().map_err(|e| format!("listener: {e}"))?;
        if !status.success() {
            return Err(format!("listener: {status}"));
        }
        let (user, sys) = cpu(UsageWho::RUSAGE_CHILDREN)?;
        Ok((buckets, user + sys))
    }
}

/// Probes, failures and the sum of probe latencies over every checker.
fn totals(runner: &Runner<usize>) -> (u64, u64, Duration) {
    let mut t = (0, 0, Duration::ZERO);
    for (_, status) in runner.statuses() {
        for c in &status.checkers {
            t.0 += c.counters.probes;
            t.1 += c.counters.failures;
            t.2 += c.counters.latency_sum;
        }
    }
    t
}

fn bench() -> Result<ExitCode, String> {
    let s = Settings::from_env()?;
    let servers = s.tcp + s.http;
    let (soft_before, soft) = ensure_nofile(s.in_flight as u64 + FD_MARGIN)?;
    let started = Instant::now();
    let listeners = Listeners::start()?;
    let (tcp_port, http_port) = (listeners.tcp_port, listeners.http_port);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let rss_before = status_kib("VmRSS")?;
    let fds_before = open_fds();
    let sampler = FdSampler::start();

    let m = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
        let mut runner = Runner::new(
            RunnerOptions {
                max_in_flight: s.in_flight,
                seed: Some(11),
            },
            tx,
        );
        // The daemon consumes every health event; so does the bench.
        let events = tokio::spawn(async move {
            let mut n = 0u64;
            while rx.recv().await.is_some() {
                n += 1;
            }
            n
        });
        for i in 0..servers {
            let ip = real_server_ip(i);
            let (probe, kind) = if i < s.tcp {
                let conn = ConnectOptions::new(SocketAddr::new(ip, tcp_port));
                (Probe::Tcp(TcpCheck { conn }), KindDefaults::Plain)
            } else {
                let conn = ConnectOptions::new(SocketAddr::new(ip, http_port));
                let http = HttpCheck {
                    conn,
                    urls: vec![UrlCheck::new("/")],
                    protocol: HttpProtocol::default(),
                    tls: None,
                };
                (Probe::Http(http), KindDefaults::Http)
            };
            runner
                .add(RealServerSpec {
                    id: i,
                    weight: 1,
                    checkers: vec![CheckerSpec {
                        probe,
                        timing: Timing::native(kind, s.delay_loop),
                    }],
                })
                .map_err(|e| e.to_string())?;
        }
        // The warmup spreads the first checks over one delay loop; two more
        // let the schedules settle.
        tokio::time::sleep(s.delay_loop * 3).await;

        let (probes0, failures0, latency0) = totals(&runner);
        let sampler_cpu0 = sampler.own_cpu();
        let (user0, sys0) = cpu(UsageWho::RUSAGE_SELF)?;
        let mono0 = monotonic()?;
        let wall0 = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(s.seconds)).await;
        let wall = wall0.elapsed();
        let mono1 = monotonic()?;
        let (user1, sys1) = cpu(UsageWho::RUSAGE_SELF)?;
        let sampler_cpu = sampler.own_cpu().saturating_sub(sampler_cpu0);
        let (probes1, failures1, latency1) = totals(&runner);
        let hwm = status_kib("VmHWM")?;
        let rss = status_kib("VmRSS")?;
        runner.stop().await;
        let events = events.await.unwrap_or(0);
        Ok::<_, String>(Measured {
            wall,
            user: user1.saturating_sub(user0),
            sys: sys1.saturating_sub(sys0),
            sampler_cpu,
            probes: probes1 - probes0,
            failures: failures1 - failures0,
            latency: latency1.saturating_sub(latency0),
            events,
            hwm,
            rss,
            window: (bucket_of(mono0), bucket_of(mono1)),
        })
    })?;
    let max_fds = sampler.finish();
    let (buckets, listener_cpu) = listeners.finish()?;
    let run = started.elapsed();
    report(
        &s,
        &m,
        &buckets,
        Others {
            rss_before,
            fds_before,
            max_fds,
            nofile: (soft_before, soft),
            listener_cpu_share: listener_cpu.as_secs_f64() / run.as_secs_f64(),
        },
    )
}

/// What the steady-state window measured.
struct Measured {
    wall: Duration,
    user: Duration,
    sys: Duration,
    sampler_cpu: Duration,
    probes: u64,
    failures: u64,
    /// The sum of the window's probe latencies (from a free permit to the
    /// result: the wait for a permit is not in it).
    latency: Duration,
    events: u64,
    hwm: u64,
    rss: u64,
    window: (u64, u64),
}

/// What was measured outside the window.
struct Others {
    rss_before: u64,
    fds_before: u64,
    max_fds: u64,
    /// The open files soft limit before and after raising it.
    nofile: (u64, u64),
    /// The listener child's CPU per wall second of its whole run.
    listener_cpu_share: f64,
}

fn report(
    s: &Settings,
    m: &Measured,
    buckets: &BTreeMap<u64, [u32; 2]>,
    o: Others,
) -> Result<ExitCode, String> {
    let Others {
        rss_before,
        fds_before,
        max_fds,
        nofile: (soft_before, soft),
        listener_cpu_share,
    } = o;
    let servers = (s.tcp + s.http) as u64;
    let secs = m.wall.as_secs_f64();
    // The whole buckets inside the window (the first and last are partial).
    let (first, last) = (m.window.0 + 1, m.window.1);
    let n_buckets = last.saturating_sub(first).max(1);
    let counts = |kind: Option<usize>| -> (u64, u64) {
        (first..last).fold((0, 0), |(sum, max), b| {
            let c = buckets.get(&b).map_or(0, |v| match kind {
                Some(k) => u64::from(v[k]),
                None => u64::from(v[0]) + u64::from(v[1]),
            });
            (sum + c, max.max(c))
        })
    };
    let (arrivals, max_bucket) = counts(None);
    let mut per_bucket: Vec<u64> = (first..last)
        .map(|b| {
            buckets
                .get(&b)
                .map_or(0, |v| u64::from(v[0]) + u64::from(v[1]))
        })
        .collect();
    per_bucket.sort_unstable();
    let p99 = per_bucket
        .get(per_bucket.len().saturating_sub(1) * 99 / 100)
        .copied()
        .unwrap_or(0);
    let (tcp_arrivals, tcp_max) = counts(Some(0));
    let (http_arrivals, http_max) = counts(Some(1));
    let mean = arrivals as f64 / n_buckets as f64;
    let checking = (m.user + m.sys).saturating_sub(m.sampler_cpu);
    // Jitter shortens each interval by up to its share: on average by half.
    let expected = servers as f64 / (s.delay_loop.as_secs_f64() * (1.0 - DEFAULT_JITTER / 2.0));
    let per_check_us = checking.as_secs_f64() * 1e6 / (m.probes.max(1) as f64);
    let mib = |kib: u64| kib as f64 / 1024.0;

    println!(
        "\nipvsd checkers: {} TCP_CHECK + {} HTTP_GET, delay loop {:?}, jitter {:.0} %, \
         {:.1} s measured, {} probes in flight at most, open files soft limit {}{}\n",
        s.tcp,
        s.http,
        s.delay_loop,
        DEFAULT_JITTER * 100.0,
        secs,
        s.in_flight,
        soft,
        if soft != soft_before {
            format!(" (raised from {soft_before})")
        } else {
            String::new()
        }
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| checks per second | {:.0} (schedule: {expected:.0}) |",
        m.probes as f64 / secs
    );
    println!("| failed checks | {} |", m.failures);
    println!(
        "| CPU per wall second | {:.3} s (the process: user {:.3}, system {:.3}; less the fd sampler) |",
        checking.as_secs_f64() / secs,
        m.user.as_secs_f64() / secs,
        m.sys.as_secs_f64() / secs
    );
    println!("| CPU per check | {per_check_us:.1} µs |");
    println!(
        "| fd sampler's CPU (taken out) | {:.3} s per second |",
        m.sampler_cpu.as_secs_f64() / secs
    );
    println!("| listeners' CPU (other process) | {listener_cpu_share:.3} s per second |");
    println!(
        "| probe latency (permit to result) | mean {:.2} ms |",
        m.latency.as_secs_f64() * 1e3 / (m.probes.max(1) as f64)
    );
    println!(
        "| peak memory (VmHWM) | {:.1} MiB (VmRSS {:.1} MiB; {:.1} MiB before; {:.2} KiB per real server) |",
        mib(m.hwm),
        mib(m.rss),
        mib(rss_before),
        m.hwm.saturating_sub(rss_before) as f64 / servers.max(1) as f64
    );
    println!(
        "| check starts per 10 ms | mean {mean:.1}, 99th percentile {p99} ({:.2}x), busiest {max_bucket} ({:.2}x the mean); TCP busiest {tcp_max}, HTTP busiest {http_max} |",
        p99 as f64 / mean.max(f64::MIN_POSITIVE),
        max_bucket as f64 / mean.max(f64::MIN_POSITIVE)
    );
    println!(
        "| arrivals at the listeners | {:.0} per second (TCP {:.0}, HTTP {:.0}) |",
        arrivals as f64 / (n_buckets as f64 * BUCKET.as_secs_f64()),
        tcp_arrivals as f64 / (n_buckets as f64 * BUCKET.as_secs_f64()),
        http_arrivals as f64 / (n_buckets as f64 * BUCKET.as_secs_f64()),
    );
    println!(
        "| open descriptors | at most {max_fds} ({fds_before} before the checkers; limit {} in flight) |",
        s.in_flight
    );
    println!(
        "| health events | {} (each real server's first result) |",
        m.events
    );

    let mut ok = true;
    if m.failures > 0 {
        eprintln!("FAILED: {} checks failed in the window", m.failures);
        ok = false;
    }
    if max_fds > fds_before + s.in_flight as u64 {
        eprintln!(
            "FAILED: {max_fds} descriptors open, more than {fds_before} + {} probes in flight",
            s.in_flight
        );
        ok = false;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
