//! The probes against real servers made here on loopback: TCP listeners and
//! closed ports, an HTTP server (hyper) that answers 200, 500 or hangs and
//! records what it was sent, the same over TLS with a self-signed
//! certificate that records the SNI, UDP echo and silent ports, a DNS
//! responder (hickory-proto), MISC scripts through /bin/sh, FILE_CHECK files.

use std::convert::Infallible;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use ipvsd::check::{
    BodyDigest, BodyRegex, ConnectOptions, DnsCheck, DnsType, DynamicWeight, FileCheck, HttpCheck,
    HttpProtocol, MiscCheck, ProbeFailure, ProbeSuccess, ReplyPattern, RequireReply, TcpCheck,
    TlsOptions, UdpCheck, UrlCheck,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UdpSocket};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn opts(addr: SocketAddr) -> ConnectOptions {
    ConnectOptions::new(addr).with_timeout(Duration::from_millis(800))
}

/// A port nothing listens on (bound, read, released).
async fn closed_tcp_port() -> SocketAddr {
    let l = TcpListener::bind((LOCAL, 0)).await.unwrap();
    l.local_addr().unwrap()
}

// ---------------------------------------------------------------- TCP_CHECK

#[tokio::test]
async fn tcp_connects_to_a_listener_and_fails_on_a_closed_port() {
    let listener = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let check = TcpCheck { conn: opts(addr) };
    assert_eq!(check.probe().await, Ok(ProbeSuccess::default()));

    let closed = closed_tcp_port().await;
    let check = TcpCheck { conn: opts(closed) };
    match check.probe().await {
        Err(ProbeFailure::Io {
            call: "connect",
            kind,
            ..
        }) => assert_eq!(kind, ErrorKind::ConnectionRefused),
        other => panic!("expected a refused connect, got {other:?}"),
    }
}

#[tokio::test]
async fn tcp_honours_bindto_and_bind_port() {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Any 127/8 address is local: connect to one, from another.
    let target = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)), port);
    let source_port = {
        let s = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let conn = opts(target).with_bind(
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))),
        Some(source_port),
    );
    let accept = tokio::spawn(async move { listener.accept().await.unwrap() });
    assert!(TcpCheck { conn }.probe().await.is_ok());
    let (_, peer) = accept.await.unwrap();
    assert_eq!(
        peer,
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), source_port)
    );
}

#[tokio::test]
async fn tcp_fwmark_is_set_or_its_error_is_named() {
    let listener = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let mut conn = opts(listener.local_addr().unwrap());
    conn.fwmark = Some(0x42);
    match (TcpCheck { conn }).probe().await {
        Ok(_) => {}
        // SO_MARK needs CAP_NET_ADMIN.
        Err(ProbeFailure::Io {
            call: "fwmark",
            kind,
            ..
        }) => assert_eq!(kind, ErrorKind::PermissionDenied),
        Err(other) => panic!("{other}"),
    }
}

// ------------------------------------------------------ HTTP_GET / SSL_GET

/// What the test server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    host: Option<String>,
    user_agent: Option<String>,
    connection: Option<String>,
    version: hyper::Version,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn handle(req: Request<Incoming>, log: Log) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    log.lock().unwrap().push(Seen {
        path: req.uri().path().to_owned(),
        host: header("host"),
        user_agent: header("user-agent"),
        connection: header("connection"),
        version: req.version(),
    });
    if req.uri().path() == "/big" {
        return Ok(Response::new(Full::new(Bytes::from(big_body()))));
    }
    let (status, body) = match req.uri().path() {
        "/ok" => (200, "hello world"),
        "/error" => (500, "broken"),
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (200, "late")
        }
        _ => (404, "no such page"),
    };
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}

/// 3 MiB, past what the regex is given, with a marker at its end.
fn big_body() -> Vec<u8> {
    let mut b = vec![b'a'; 3 * 1024 * 1024];
    b.extend_from_slice(b"END");
    b
}

async fn serve_http<T>(io: T, log: Log)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(
            TokioIo::new(io),
            service_fn(move |req| handle(req, log.clone())),
        )
        .await;
}

/// An HTTP server on loopback; returns its address and request log.
async fn http_server() -> (SocketAddr, Log) {
    let listener = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let l = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve_http(stream, l.clone()));
        }
    });
    (addr, log)
}

fn http(addr: SocketAddr, urls: Vec<UrlCheck>) -> HttpCheck {
    HttpCheck {
        conn: opts(addr),
        urls,
        protocol: HttpProtocol::Http10,
        tls: None,
    }
}

#[tokio::test]
async fn http_default_accepts_2xx_and_sends_keepalived_request() {
    let (addr, log) = http_server().await;
    assert!(http(addr, vec![UrlCheck::new("/ok")]).probe().await.is_ok());
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/ok");
    assert_eq!(seen.host.as_deref(), Some(addr.to_string().as_str()));
    assert_eq!(seen.user_agent.as_deref(), Some("KeepAliveClient"));
    assert_eq!(seen.connection, None, "plain 1.0 sends no Connection");
    assert_eq!(seen.version, hyper::Version::HTTP_10);
}

#[tokio::test]
async fn http_over_ipv6_brackets_the_host_header() {
    let listener = TcpListener::bind("[::1]:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let l = log.clone();
    tokio::spawn(async move {
        if let Ok((stream, _)) = listener.accept().await {
            serve_http(stream, l).await;
        }
    });
    assert!(http(addr, vec![UrlCheck::new("/ok")]).probe().await.is_ok());
    let host = log.lock().unwrap()[0].host.clone();
    assert_eq!(host, Some(format!("[::1]:{}", addr.port())));
}

#[tokio::test]
async fn http_protocol_1_1_and_virtualhost() {
    let (addr, log) = http_server().await;
    let mut check = http(
        addr,
        vec![UrlCheck {
            virtualhost: Some("www.example.test".into()),
            ..UrlCheck::new("/ok")
        }],
    );
    check.protocol = HttpProtocol::Http11;
    assert!(check.probe().await.is_ok());
    check.protocol = HttpProtocol::Http10Close;
    assert!(check.probe().await.is_ok());
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].version, hyper::Version::HTTP_11);
    assert_eq!(seen[0].host.as_deref(), Some("www.example.test"));
    assert_eq!(seen[0].connection.as_deref(), Some("close"));
    assert_eq!(seen[1].version, hyper::Version::HTTP_10);
    assert_eq!(seen[1].connection.as_deref(), Some("close"));
}

#[tokio::test]
async fn http_status_codes_and_ranges() {
    let (addr, _) = http_server().await;
    match http(addr, vec![UrlCheck::new("/error")]).probe().await {
        Err(ProbeFailure::HttpStatus { status: 500, url }) => assert_eq!(url, "/error"),
        other => panic!("expected status 500, got {other:?}"),
    }
    let accepts_5xx = UrlCheck {
        status: "200-299 500-599".parse().unwrap(),
        ..UrlCheck::new("/error")
    };
    assert!(http(addr, vec![accepts_5xx]).probe().await.is_ok());
}

#[tokio::test]
async fn http_digest_and_regex_on_the_body() {
    let (addr, _) = http_server().await;
    let good = UrlCheck {
        digest: Some(BodyDigest::of(b"hello world")),
        regex: Some(BodyRegex::new(regex::bytes::Regex::new("wor.d").unwrap())),
        ..UrlCheck::new("/ok")
    };
    assert!(http(addr, vec![good.clone()]).probe().await.is_ok());

    let wrong_digest = UrlCheck {
        digest: Some("d41d8cd98f00b204e9800998ecf8427e".parse().unwrap()),
        ..good.clone()
    };
    assert!(matches!(
        http(addr, vec![wrong_digest]).probe().await,
        Err(ProbeFailure::Digest { .. })
    ));

    let no_match = UrlCheck {
        regex: Some(BodyRegex {
            no_match: true,
            ..BodyRegex::new(regex::bytes::Regex::new("hello").unwrap())
        }),
        ..UrlCheck::new("/ok")
    };
    assert!(matches!(
        http(addr, vec![no_match]).probe().await,
        Err(ProbeFailure::Regex { matched: true, .. })
    ));
}

#[tokio::test]
async fn http_digest_covers_a_large_body_and_the_regex_its_first_mebibyte() {
    let (addr, _) = http_server().await;
    let digest = UrlCheck {
        digest: Some(BodyDigest::of(&big_body())),
        ..UrlCheck::new("/big")
    };
    assert!(http(addr, vec![digest]).probe().await.is_ok());
    let late_marker = UrlCheck {
        regex: Some(BodyRegex::new(regex::bytes::Regex::new("END").unwrap())),
        ..UrlCheck::new("/big")
    };
    assert!(matches!(
        http(addr, vec![late_marker]).probe().await,
        Err(ProbeFailure::Regex { matched: false, .. })
    ));
}

#[tokio::test]
async fn http_every_url_must_pass() {
    let (addr, log) = http_server().await;
    let urls = vec![
        UrlCheck::new("/ok"),
        UrlCheck::new("/missing"),
        UrlCheck::new("/ok"),
    ];
    match http(addr, urls).probe().await {
        Err(ProbeFailure::HttpStatus { url, status: 404 }) => assert_eq!(url, "/missing"),
        other => panic!("expected /missing to fail, got {other:?}"),
    }
    assert_eq!(log.lock().unwrap().len(), 2, "stops at the first failure");
}

#[tokio::test]
async fn http_a_hanging_server_fails_within_the_timeout() {
    let (addr, _) = http_server().await;
    let mut check = http(addr, vec![UrlCheck::new("/hang")]);
    check.conn.timeout = Duration::from_millis(300);
    let t = Instant::now();
    let r = check.probe().await;
    let took = t.elapsed();
    assert!(
        matches!(r, Err(ProbeFailure::ResponseTimeout(_))),
        "got {r:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test]
async fn http_closed_port_fails_to_connect() {
    let closed = closed_tcp_port().await;
    assert!(matches!(
        http(closed, vec![UrlCheck::new("/")]).probe().await,
        Err(ProbeFailure::Io {
            call: "connect",
            ..
        })
    ));
}

/// A TLS server with a self-signed certificate for `rs.example`; records
/// the SNI of each connection (`None`: no SNI sent).
async fn tls_server() -> (SocketAddr, Log, Arc<Mutex<Vec<Option<String>>>>) {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["rs.example".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .unwrap(),
    );
    let listener = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let snis: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let (l, s) = (log.clone(), snis.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (l, s, config) = (l.clone(), s.clone(), config.clone());
            tokio::spawn(async move {
                let acceptor = tokio_rustls::LazyConfigAcceptor::new(
                    rustls::server::Acceptor::default(),
                    stream,
                );
                let Ok(start) = acceptor.await else { return };
                s.lock()
                    .unwrap()
                    .push(start.client_hello().server_name().map(str::to_owned));
                if let Ok(tls) = start.into_stream(config).await {
                    serve_http(tls, l).await;
                }
            });
        }
    });
    (addr, log, snis)
}

#[tokio::test]
async fn ssl_get_sends_sni_as_configured_and_does_not_verify() {
    let (addr, log, snis) = tls_server().await;
    let url = UrlCheck {
        virtualhost: Some("vhost.example".into()),
        digest: Some(BodyDigest::of(b"hello world")),
        ..UrlCheck::new("/ok")
    };
    let mut check = http(addr, vec![url]);

    // Without enable_sni: no SNI; the self-signed certificate is accepted.
    check.tls = Some(TlsOptions::default());
    assert_eq!(check.probe().await, Ok(ProbeSuccess::default()));
    // enable_sni: the url's virtualhost.
    check.tls = Some(TlsOptions {
        enable_sni: true,
        sni_name: None,
    });
    assert!(check.probe().await.is_ok());
    // sni_name wins.
    check.tls = Some(TlsOptions {
        enable_sni: true,
        sni_name: Some("sni.example".into()),
    });
    assert!(check.probe().await.is_ok());

    assert_eq!(
        *snis.lock().unwrap(),
        vec![
            None,
            Some("vhost.example".to_owned()),
            Some("sni.example".to_owned())
        ]
    );
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .all(|s| s.host.as_deref() == Some("vhost.example"))
    );
}

#[tokio::test]
async fn ssl_get_against_a_plain_http_server_fails_in_tls() {
    let (addr, _) = http_server().await;
    let mut check = http(addr, vec![UrlCheck::new("/ok")]);
    check.tls = Some(TlsOptions::default());
    assert!(matches!(
        check.probe().await,
        Err(ProbeFailure::Tls(_) | ProbeFailure::ConnectTimeout(_))
    ));
}

// ---------------------------------------------------------------- UDP_CHECK

/// A UDP server that echoes what it gets, prefixed by `prefix`.
async fn udp_echo(prefix: &'static [u8]) -> SocketAddr {
    let s = UdpSocket::bind((LOCAL, 0)).await.unwrap();
    let addr = s.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = s.recv_from(&mut buf).await {
            let mut out = prefix.to_vec();
            out.extend_from_slice(&buf[..n]);
            let _ = s.send_to(&out, peer).await;
        }
    });
    addr
}

fn udp(addr: SocketAddr, payload: &[u8], require: Option<RequireReply>) -> UdpCheck {
    UdpCheck {
        conn: opts(addr).with_timeout(Duration::from_millis(300)),
        payload: Some(payload.to_vec()),
        require_reply: require,
    }
}

#[tokio::test]
async fn udp_reply_lengths_and_pattern() {
    let echo = udp_echo(b"").await;
    assert!(
        udp(echo, b"ping", Some(RequireReply::default()))
            .probe()
            .await
            .is_ok()
    );
    let bounds = RequireReply {
        min_len: 5,
        max_len: 8,
        pattern: None,
    };
    assert!(matches!(
        udp(echo, b"ping", Some(bounds.clone())).probe().await,
        Err(ProbeFailure::ReplyLength { len: 4, .. })
    ));
    assert!(matches!(
        udp(echo, b"ping-ping", Some(bounds.clone())).probe().await,
        Err(ProbeFailure::ReplyLength { len: 9, .. })
    ));
    assert!(udp(echo, b"ping!", Some(bounds)).probe().await.is_ok());

    let pattern = RequireReply {
        pattern: Some(ReplyPattern {
            data: b"pi".to_vec(),
            ignore: vec![0x00, 0xff],
        }),
        ..RequireReply::default()
    };
    assert!(
        udp(echo, b"pong", Some(pattern.clone()))
            .probe()
            .await
            .is_ok()
    );
    assert!(matches!(
        udp(echo, b"xing", Some(pattern)).probe().await,
        Err(ProbeFailure::ReplyMismatch(0))
    ));
    // No payload configured: 32 random bytes go out and come back.
    let mut random = udp(
        echo,
        b"",
        Some(RequireReply {
            min_len: 32,
            max_len: 32,
            pattern: None,
        }),
    );
    random.payload = None;
    assert!(random.probe().await.is_ok());
}

#[tokio::test]
async fn udp_silence_passes_without_require_reply_and_fails_with_it() {
    let silent = UdpSocket::bind((LOCAL, 0)).await.unwrap();
    let addr = silent.local_addr().unwrap();
    assert!(udp(addr, b"hello", None).probe().await.is_ok());
    assert!(matches!(
        udp(addr, b"hello", Some(RequireReply::default()))
            .probe()
            .await,
        Err(ProbeFailure::NoReply(_))
    ));
    drop(silent);
}

#[tokio::test]
async fn udp_closed_port_fails_on_the_icmp_error() {
    let addr = {
        let s = UdpSocket::bind((LOCAL, 0)).await.unwrap();
        s.local_addr().unwrap()
    };
    match udp(addr, b"hello", None).probe().await {
        Err(ProbeFailure::Io { kind, .. }) => assert_eq!(kind, ErrorKind::ConnectionRefused),
        other => panic!("expected port unreachable, got {other:?}"),
    }
}

// ---------------------------------------------------------------- DNS_CHECK

/// How the test DNS responder answers.
#[derive(Clone, Copy)]
enum DnsMode {
    /// A decoy with another id, then the real NOERROR answer.
    DecoyThenAnswer,
    /// SERVFAIL.
    ServFail,
}

async fn dns_server(mode: DnsMode) -> (SocketAddr, Arc<Mutex<Vec<(String, String)>>>) {
    use hickory_proto::op::{Message, MessageType, ResponseCode};
    use hickory_proto::rr::{RData, Record, rdata::A};
    let s = UdpSocket::bind((LOCAL, 0)).await.unwrap();
    let addr = s.local_addr().unwrap();
    let asked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let a = asked.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = s.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let Some(q) = query.query().cloned() else {
                continue;
            };
            a.lock()
                .unwrap()
                .push((q.name().to_ascii(), q.query_type().to_string()));
            let mut reply = Message::new();
            reply
                .set_id(query.id())
                .set_message_type(MessageType::Response)
                .set_recursion_desired(true)
                .add_query(q.clone());
            match mode {
                DnsMode::DecoyThenAnswer => {
                    let mut decoy = reply.clone();
                    decoy.set_id(query.id().wrapping_add(1));
                    let _ = s.send_to(&decoy.to_vec().unwrap(), peer).await;
                    reply.add_answer(Record::from_rdata(
                        q.name().clone(),
                        60,
                        RData::A(A::new(192, 0, 2, 1)),
                    ));
                }
                DnsMode::ServFail => {
                    reply.set_response_code(ResponseCode::ServFail);
                }
            }
            let _ = s.send_to(&reply.to_vec().unwrap(), peer).await;
        }
    });
    (addr, asked)
}

#[tokio::test]
async fn dns_answer_passes_after_a_decoy_and_servfail_fails() {
    let (addr, asked) = dns_server(DnsMode::DecoyThenAnswer).await;
    let mut check = DnsCheck::new(opts(addr));
    check.query_type = DnsType::A;
    check.name = "www.example.test".into();
    assert_eq!(check.probe().await, Ok(ProbeSuccess::default()));
    assert!(DnsCheck::new(opts(addr)).probe().await.is_ok());
    assert_eq!(
        *asked.lock().unwrap(),
        vec![
            ("www.example.test.".to_owned(), "A".to_owned()),
            (".".to_owned(), "SOA".to_owned())
        ]
    );

    let (addr, _) = dns_server(DnsMode::ServFail).await;
    assert_eq!(
        DnsCheck::new(opts(addr)).probe().await,
        Err(ProbeFailure::DnsRcode(2))
    );
}

#[tokio::test]
async fn dns_silence_times_out() {
    let silent = UdpSocket::bind((LOCAL, 0)).await.unwrap();
    let conn = opts(silent.local_addr().unwrap()).with_timeout(Duration::from_millis(200));
    assert!(matches!(
        DnsCheck::new(conn).probe().await,
        Err(ProbeFailure::ResponseTimeout(_))
    ));
}

// --------------------------------------------------------------- MISC_CHECK

fn sh(script: &str, timeout: Duration, dynamic: bool) -> MiscCheck {
    MiscCheck {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        timeout,
        dynamic,
        user: None,
    }
}

#[tokio::test]
async fn misc_exit_codes_and_dynamic_weight() {
    let t = Duration::from_secs(5);
    assert_eq!(
        sh("exit 0", t, false).probe().await,
        Ok(ProbeSuccess::default())
    );
    assert_eq!(
        sh("exit 1", t, false).probe().await,
        Err(ProbeFailure::ExitStatus(1))
    );
    assert_eq!(
        sh("exit 12", t, false).probe().await,
        Err(ProbeFailure::ExitStatus(12))
    );
    assert_eq!(
        sh("exit 12", t, true).probe().await,
        Ok(ProbeSuccess {
            weight: Some(DynamicWeight::Set(10))
        })
    );
    assert_eq!(
        sh("exit 1", t, true).probe().await,
        Err(ProbeFailure::ExitStatus(1))
    );
    assert_eq!(
        sh("kill -KILL $$", t, false).probe().await,
        Err(ProbeFailure::Signal(9))
    );
}

#[tokio::test]
async fn misc_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("child.pid");
    // The shell starts a grandchild and waits: both must die.
    let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
    let t = Instant::now();
    let r = sh(&script, Duration::from_millis(300), false).probe().await;
    assert_eq!(
        r,
        Err(ProbeFailure::ScriptTimeout(Duration::from_millis(300)))
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let pid = pid.trim();
    // Reaped by init or a zombie for an instant: give it a moment.
    let mut gone = false;
    for _ in 0..50 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "grandchild {pid} survived the timeout");
}

#[tokio::test]
async fn misc_missing_program_is_a_spawn_error() {
    let check = MiscCheck {
        argv: vec!["/nonexistent/ipvsd-check".into()],
        timeout: Duration::from_secs(1),
        dynamic: false,
        user: None,
    };
    assert!(matches!(
        check.probe().await,
        Err(ProbeFailure::Spawn { .. })
    ));
    let empty = MiscCheck {
        argv: vec![],
        ..check
    };
    assert!(matches!(
        empty.probe().await,
        Err(ProbeFailure::Spawn { .. })
    ));
}

// --------------------------------------------------------------- FILE_CHECK

#[tokio::test]
async fn file_values_set_weight_or_fault() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weight");
    let check = FileCheck {
        path: path.clone(),
        weight: 2,
        reverse: false,
    };
    // Missing: 0, an offset of 0.
    assert_eq!(
        check.probe().await,
        Ok(ProbeSuccess {
            weight: Some(DynamicWeight::Offset(0))
        })
    );
    std::fs::write(&path, "7\n").unwrap();
    assert_eq!(
        check.probe().await,
        Ok(ProbeSuccess {
            weight: Some(DynamicWeight::Offset(14))
        })
    );
    std::fs::write(&path, "-2147483648").unwrap();
    assert!(matches!(
        check.probe().await,
        Err(ProbeFailure::FileFault { .. })
    ));
    std::fs::write(&path, "4294967296").unwrap();
    assert!(matches!(
        check.probe().await,
        Err(ProbeFailure::FileValue { .. })
    ));

    let switch = FileCheck {
        path: path.clone(),
        weight: 0,
        reverse: false,
    };
    std::fs::write(&path, "0").unwrap();
    assert!(switch.probe().await.is_ok());
    std::fs::write(&path, "1").unwrap();
    assert!(switch.probe().await.is_err());
}
