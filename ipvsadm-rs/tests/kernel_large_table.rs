//! A very large table on the real kernel: 100,000 services x 4 real
//! servers, restored with `-R`, listed (`-Ln`) and saved (`-Sn`) in
//! bounded memory, the saved rules byte for byte ipvsadm 1.31's.
//! (Times and memory next to ipvsadm's: benches/kernel_large_table.rs.)

use std::path::Path;

use testbed::measure::{own_peak_kib, run};

const SERVICES: usize = 100_000;
const SERVERS: usize = 4;
/// The most memory any of these runs may take, in KiB: the table's
/// services are held (to sort them, as ipvsadm does), the real servers and
/// the text are not.
const PEAK_KIB: u64 = 96 * 1024;

#[test]
fn a_table_of_100000_services_is_restored_listed_and_saved_in_bounded_memory() {
    let ours = Path::new(env!("CARGO_BIN_EXE_ipvsadm-rs"));
    let theirs = testbed::reference::path();
    testbed::netns::enter_fresh();
    let input = testbed::tables::restore_input("large-table", SERVICES, SERVERS);
    let restored = run(ours, &["-R"], Some(&input));
    assert_eq!((restored.code, restored.stderr.as_str()), (0, ""));
    println!(
        "-R of {} lines: {:.1} s, peak {} KiB",
        SERVICES * (1 + SERVERS),
        restored.time.as_secs_f64(),
        restored.max_rss_kib
    );
    assert!(restored.max_rss_kib < PEAK_KIB, "-R: {restored:?}");
    let _ = std::fs::remove_file(&input);
    // What the measurements below cannot go under (see testbed::measure).
    println!("the test's own peak: {} KiB", own_peak_kib());
    let rules = (SERVICES * (1 + SERVERS)) as u64;
    for (args, lines) in [(&["-Sn"][..], rules), (&["-Ln"], rules + 3)] {
        let m = run(ours, args, None);
        println!(
            "{args:?}: {:.1} s, peak {} KiB, {} lines",
            m.time.as_secs_f64(),
            m.max_rss_kib,
            m.stdout_lines
        );
        assert_eq!((m.code, m.stderr.as_str()), (0, ""), "{args:?}");
        assert_eq!(m.stdout_lines, lines, "{args:?}");
        assert!(m.max_rss_kib < PEAK_KIB, "{args:?}: {m:?}");
        if args == ["-Sn"] {
            let reference = run(&theirs, args, None);
            println!(
                "ipvsadm 1.31 {args:?}: {:.1} s, peak {} KiB",
                reference.time.as_secs_f64(),
                reference.max_rss_kib
            );
            assert_eq!(reference.code, 0);
            assert_eq!(
                m.stdout_digest, reference.stdout_digest,
                "same bytes as ipvsadm"
            );
        }
    }
}
