//! The load model and its verdicts on fixed inputs: the UCS@school reference schools on the
//! UCS reference machines (product brief), the threshold edges, and the largest school.

use std::path::PathBuf;

use expect_test::{Expect, expect};
use schola_capacity::model::{self, SchoolSize};
use schola_capacity::probe::{
    Argon2Bench, ConfiguredLimits, DiskBench, Filesystem, Limit, Machine, Memory, Nic, OpenFiles,
};
use schola_capacity::verdict::{self, describe};
use schola_capacity::{Action, Level, Profile, Resource, StormMeasurement, format};
use schola_core::Config;
use schola_core::limits::Limits;

const GIB: u64 = 1 << 30;

/// argon2id verifies per second and core of the default parameters on a current server core
/// (the calibration machine's EPYC does 65).
const VERIFIES_PER_CORE: f64 = 50.0;

/// A machine as the probe would report it, with the web limits derived as schola-web derives
/// them for `people`.
fn machine(cores: usize, memory_gib: u64, disk_gib: u64, people: usize) -> Machine {
    // the hash pool has one thread per core of *that* machine (the default derives it from
    // the cores of the one running the test)
    let mut cfg = Config::default();
    cfg.auth.hash_threads = cores;
    let l = Limits::derive_for(&cfg, cores, memory_gib * GIB, people);
    let derived = |key: &str, value: usize| Limit {
        key: key.into(),
        value: value as u64,
        source: "derived".into(),
    };
    Machine {
        hostname: "schola".into(),
        cpu_model: "test CPU".into(),
        cores,
        cpu_quota: None,
        argon2: Argon2Bench {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            verifies_per_sec: VERIFIES_PER_CORE * cores as f64,
            verify_ms: 1_000.0 / VERIFIES_PER_CORE,
            threads: cores,
            seconds: 2.0,
        },
        memory: Memory {
            total: memory_gib * GIB,
            available: memory_gib * GIB * 3 / 4,
            swap_total: 0,
            swap_free: 0,
            cgroup_limited: false,
        },
        filesystems: vec![
            fs("database", "/var/lib/schola", disk_gib),
            fs("files", "/srv/schola", disk_gib),
        ],
        nics: vec![
            Nic {
                name: "lo".into(),
                speed_mbit: None,
                up: true,
            },
            Nic {
                name: "eth0".into(),
                speed_mbit: Some(1_000),
                up: true,
            },
        ],
        open_files: OpenFiles {
            soft: 1_024,
            hard: 524_288,
            system_max: Some(9_223_372_036_854_775_807),
            web: 65_536,
        },
        limits: ConfiguredLimits {
            web_workers: l.workers,
            web_max_connections: l.max_connections,
            web_max_connections_per_client: l.max_connections_per_client,
            web_in_flight: l.in_flight,
            web_signins_waiting: l.signins_waiting,
            web_hash_threads: l.hash_threads,
            all: vec![
                derived("web.workers", l.workers),
                derived("web.max_connections", l.max_connections),
            ],
        },
        oom_kills: Some(0),
        uptime_secs: Some(86_400),
    }
}

/// A data filesystem of `gib` with 90 % free and a SATA SSD's benchmark.
fn fs(role: &str, path: &str, gib: u64) -> Filesystem {
    Filesystem {
        role: role.into(),
        path: PathBuf::from(path),
        mount_point: PathBuf::from("/"),
        fs_type: "ext4".into(),
        size: gib * GIB,
        free: gib * GIB * 9 / 10,
        used: gib * GIB / 10,
        bench: Some(DiskBench {
            seq_write: 400e6,
            fsyncs_per_sec: 1_500.0,
            read_iops: 50_000.0,
            write_iops: 30_000.0,
            bytes_written: 256 << 20,
            seconds: 2.0,
        }),
    }
}

fn school(students: usize, teachers: usize) -> SchoolSize {
    SchoolSize {
        students,
        teachers,
        staff: 0,
        admins: 0,
    }
}

/// UCS@school's reference sizes: small 150 accounts on 2 cores / 4 GB / ≤ 100 GB, medium 600
/// on 4 / 16 / 400 GB, large 1,500 on 8 / 32 / 1 TB.
fn small() -> (SchoolSize, Machine) {
    (school(130, 20), machine(2, 4, 100, 150))
}
fn medium() -> (SchoolSize, Machine) {
    (school(540, 60), machine(4, 16, 400, 600))
}
fn large() -> (SchoolSize, Machine) {
    (school(1_350, 150), machine(8, 32, 1_000, 1_500))
}

/// Needs and verdicts as the table an admin reads.
fn render(s: &SchoolSize, p: &Profile, m: &Machine, storm: Option<&StormMeasurement>) -> String {
    let needs = model::needs(s, p, m);
    let mut out = String::new();
    for f in &needs.figures {
        out.push_str(&format!(
            "{:<20} {:>14}  = {}\n",
            f.key,
            format::quantity(f.value),
            f.formula
        ));
    }
    out.push('\n');
    for v in verdict::verdicts(s, p, m, &needs, storm) {
        out.push_str(&format!(
            "{:<4} {:<12} {}\n",
            v.level.as_str().to_uppercase(),
            v.resource.key(),
            describe(&v)
        ));
        if let Some(a) = &v.action {
            out.push_str(&format!("     → {a}\n"));
        }
    }
    out.push_str(&format!(
        "\nsign-in capacity {:.1}/s at utilisation ≤ {:.2}; largest school {} ({:?})\n",
        model::signin_capacity(m),
        model::utilisation_target(m),
        format::number(model::largest_school(m, p) as f64),
        model::school_bounds(m, p)
    ));
    out
}

fn check((s, m): (SchoolSize, Machine), expect: Expect) {
    expect.assert_eq(&render(&s, &Profile::default(), &m, None));
}

#[test]
fn small_school_on_the_small_machine() {
    check(
        small(),
        expect![[r#"
            people                          150  = students + teachers + staff + admins
            active_people                   144  = students × students_online + (teachers + staff + admins) × staff_online
            signin_rate                  0.20/s  = people × storm_share ÷ storm_window_secs
            cpu_scale                       1.3  = (cores ÷ verifies_per_sec) ÷ (memory_kib × iterations) ÷ (calibration_verify_ms ÷ 1,000 ÷ calibration_argon2_work)
            signin_cpu             0.0045 cores  = signin_rate × (cores ÷ verifies_per_sec + signin_overhead_ms ÷ 1,000 × cpu_scale)
            request_rate                   14/s  = active_people × requests_per_minute ÷ 60
            request_cpu            0.0019 cores  = request_rate × request_cpu_ms ÷ 1,000 × cpu_scale
            connections                     861  = active_people × connections_per_browser
            open_files                    1,885  = connections + open_files_headroom
            memory                      1.4 GiB  = os_baseline + web_baseline + hash_threads × argon2_memory + workers × per_worker + connections × per_connection + active_people × per_session + active_people × drives_per_person × per_drive + active_people × mail_connections_per_person × per_mail_connection
            disk_growth_per_day     956 MiB/day  = teachers × upload_per_teacher + students × upload_per_student + people × mails_per_person × mail_size
            disk_space_year             177 GiB  = disk_growth_per_day × school_days
            disk_write_rate            68 KiB/s  = disk_growth_per_day × busiest_hour_share ÷ 3,600
            commit_rate                   2.6/s  = signin_rate × commits_per_signin + active_people × session_touches_per_minute ÷ 60
            uplink                    29 Mbit/s  = active_people × bandwidth_per_person
            network                   29 Mbit/s  = active_people × bandwidth_per_person

            OK   signin-cpu   needed 0.20/s, have 89/s, headroom 44,153 %
            OK   request-cpu  needed 0.0019 cores, have 2 cores, headroom 107,217 %
            OK   memory       needed 1.4 GiB, have 4.0 GiB, headroom 189 %
            OK   connections  needed 861, have 4,096, headroom 376 %
            OK   open-files   needed 1,885, have 65,536, headroom 3,377 %
            WARN disk-space   needed 177 GiB, have 90 GiB, headroom −49 %
                 → the disk is full in 185 days: add 256 GiB
            OK   disk-write   needed 2.6/s, have 1,500/s, headroom 57,778 %
            WARN uplink       needed 29 Mbit/s, have unknown
                 → enter the school's uplink bandwidth on the capacity page (it cannot be measured offline)
            OK   network      needed 29 Mbit/s, have 1 Gbit/s, headroom 3,384 %

            sign-in capacity 88.5/s at utilisation ≤ 0.88; largest school 627 (SchoolBounds { signin: 58413, memory: 627, connections: 2859 })
        "#]],
    );
}

#[test]
fn medium_school_on_the_medium_machine() {
    check(
        medium(),
        expect![[r#"
            people                          600  = students + teachers + staff + admins
            active_people                   573  = students × students_online + (teachers + staff + admins) × staff_online
            signin_rate                  0.80/s  = people × storm_share ÷ storm_window_secs
            cpu_scale                       1.3  = (cores ÷ verifies_per_sec) ÷ (memory_kib × iterations) ÷ (calibration_verify_ms ÷ 1,000 ÷ calibration_argon2_work)
            signin_cpu              0.018 cores  = signin_rate × (cores ÷ verifies_per_sec + signin_overhead_ms ÷ 1,000 × cpu_scale)
            request_rate                   57/s  = active_people × requests_per_minute ÷ 60
            request_cpu            0.0074 cores  = request_rate × request_cpu_ms ÷ 1,000 × cpu_scale
            connections                   3,438  = active_people × connections_per_browser
            open_files                    4,462  = connections + open_files_headroom
            memory                      3.9 GiB  = os_baseline + web_baseline + hash_threads × argon2_memory + workers × per_worker + connections × per_connection + active_people × per_session + active_people × drives_per_person × per_drive + active_people × mail_connections_per_person × per_mail_connection
            disk_growth_per_day     3.3 GiB/day  = teachers × upload_per_teacher + students × upload_per_student + people × mails_per_person × mail_size
            disk_space_year             632 GiB  = disk_growth_per_day × school_days
            disk_write_rate           242 KiB/s  = disk_growth_per_day × busiest_hour_share ÷ 3,600
            commit_rate                    10/s  = signin_rate × commits_per_signin + active_people × session_touches_per_minute ÷ 60
            uplink                   115 Mbit/s  = active_people × bandwidth_per_person
            network                  115 Mbit/s  = active_people × bandwidth_per_person

            OK   signin-cpu   needed 0.80/s, have 177/s, headroom 22,026 %
            OK   request-cpu  needed 0.0074 cores, have 4 cores, headroom 53,652 %
            OK   memory       needed 3.9 GiB, have 16 GiB, headroom 311 %
            OK   connections  needed 3,438, have 4,624, headroom 34 %
            OK   open-files   needed 4,462, have 65,536, headroom 1,369 %
            WARN disk-space   needed 632 GiB, have 360 GiB, headroom −43 %
                 → the disk is full in 208 days: add 1.0 TiB
            OK   disk-write   needed 10/s, have 1,500/s, headroom 14,393 %
            WARN uplink       needed 115 Mbit/s, have unknown
                 → enter the school's uplink bandwidth on the capacity page (it cannot be measured offline)
            OK   network      needed 115 Mbit/s, have 1 Gbit/s, headroom 773 %

            sign-in capacity 177.0/s at utilisation ≤ 0.88; largest school 2,807 (SchoolBounds { signin: 116827, memory: 2807, connections: 8726 })
        "#]],
    );
}

#[test]
fn large_school_on_the_large_machine() {
    check(
        large(),
        expect![[r#"
            people                        1,500  = students + teachers + staff + admins
            active_people                 1,433  = students × students_online + (teachers + staff + admins) × staff_online
            signin_rate                     2/s  = people × storm_share ÷ storm_window_secs
            cpu_scale                       1.3  = (cores ÷ verifies_per_sec) ÷ (memory_kib × iterations) ÷ (calibration_verify_ms ÷ 1,000 ÷ calibration_argon2_work)
            signin_cpu              0.045 cores  = signin_rate × (cores ÷ verifies_per_sec + signin_overhead_ms ÷ 1,000 × cpu_scale)
            request_rate                  143/s  = active_people × requests_per_minute ÷ 60
            request_cpu             0.019 cores  = request_rate × request_cpu_ms ÷ 1,000 × cpu_scale
            connections                   8,595  = active_people × connections_per_browser
            open_files                    9,619  = connections + open_files_headroom
            memory                      8.9 GiB  = os_baseline + web_baseline + hash_threads × argon2_memory + workers × per_worker + connections × per_connection + active_people × per_session + active_people × drives_per_person × per_drive + active_people × mail_connections_per_person × per_mail_connection
            disk_growth_per_day     8.3 GiB/day  = teachers × upload_per_teacher + students × upload_per_student + people × mails_per_person × mail_size
            disk_space_year             1.5 TiB  = disk_growth_per_day × school_days
            disk_write_rate           605 KiB/s  = disk_growth_per_day × busiest_hour_share ÷ 3,600
            commit_rate                    26/s  = signin_rate × commits_per_signin + active_people × session_touches_per_minute ÷ 60
            uplink                   287 Mbit/s  = active_people × bandwidth_per_person
            network                  287 Mbit/s  = active_people × bandwidth_per_person

            OK   signin-cpu   needed 2/s, have 354/s, headroom 17,601 %
            OK   request-cpu  needed 0.019 cores, have 8 cores, headroom 42,902 %
            OK   memory       needed 8.9 GiB, have 32 GiB, headroom 259 %
            OK   connections  needed 8,595, have 10,024, headroom 17 %
            OK   open-files   needed 9,619, have 65,536, headroom 581 %
            WARN disk-space   needed 1.5 TiB, have 900 GiB, headroom −43 %
                 → the disk is full in 208 days: add 2.0 TiB
            OK   disk-write   needed 26/s, have 1,500/s, headroom 5,697 %
            WARN uplink       needed 287 Mbit/s, have unknown
                 → enter the school's uplink bandwidth on the capacity page (it cannot be measured offline)
            OK   network      needed 287 Mbit/s, have 1 Gbit/s, headroom 249 %

            sign-in capacity 354.0/s at utilisation ≤ 0.88; largest school 5,709 (SchoolBounds { signin: 233655, memory: 5709, connections: 8726 })
        "#]],
    );
}

#[test]
fn large_school_on_the_small_machine() {
    let (s, _) = large();
    check(
        (s, machine(2, 4, 100, 1_500)),
        expect![[r#"
            people                        1,500  = students + teachers + staff + admins
            active_people                 1,433  = students × students_online + (teachers + staff + admins) × staff_online
            signin_rate                     2/s  = people × storm_share ÷ storm_window_secs
            cpu_scale                       1.3  = (cores ÷ verifies_per_sec) ÷ (memory_kib × iterations) ÷ (calibration_verify_ms ÷ 1,000 ÷ calibration_argon2_work)
            signin_cpu              0.045 cores  = signin_rate × (cores ÷ verifies_per_sec + signin_overhead_ms ÷ 1,000 × cpu_scale)
            request_rate                  143/s  = active_people × requests_per_minute ÷ 60
            request_cpu             0.019 cores  = request_rate × request_cpu_ms ÷ 1,000 × cpu_scale
            connections                   8,595  = active_people × connections_per_browser
            open_files                    9,619  = connections + open_files_headroom
            memory                      8.8 GiB  = os_baseline + web_baseline + hash_threads × argon2_memory + workers × per_worker + connections × per_connection + active_people × per_session + active_people × drives_per_person × per_drive + active_people × mail_connections_per_person × per_mail_connection
            disk_growth_per_day     8.3 GiB/day  = teachers × upload_per_teacher + students × upload_per_student + people × mails_per_person × mail_size
            disk_space_year             1.5 TiB  = disk_growth_per_day × school_days
            disk_write_rate           605 KiB/s  = disk_growth_per_day × busiest_hour_share ÷ 3,600
            commit_rate                    26/s  = signin_rate × commits_per_signin + active_people × session_touches_per_minute ÷ 60
            uplink                   287 Mbit/s  = active_people × bandwidth_per_person
            network                  287 Mbit/s  = active_people × bandwidth_per_person

            OK   signin-cpu   needed 2/s, have 89/s, headroom 4,325 %
            OK   request-cpu  needed 0.019 cores, have 2 cores, headroom 10,650 %
            FAIL memory       needed 8.8 GiB, have 4.0 GiB, headroom −54 %
                 → add 8.0 GiB of RAM
            OK   connections  needed 8,595, have 10,024, headroom 17 %
            OK   open-files   needed 9,619, have 65,536, headroom 581 %
            FAIL disk-space   needed 1.5 TiB, have 90 GiB, headroom −94 %
                 → the disk is full in 21 days: add 2.0 TiB
            OK   disk-write   needed 26/s, have 1,500/s, headroom 5,697 %
            WARN uplink       needed 287 Mbit/s, have unknown
                 → enter the school's uplink bandwidth on the capacity page (it cannot be measured offline)
            OK   network      needed 287 Mbit/s, have 1 Gbit/s, headroom 249 %

            sign-in capacity 88.5/s at utilisation ≤ 0.88; largest school 627 (SchoolBounds { signin: 58413, memory: 627, connections: 2859 })
        "#]],
    );
}

/// The first figures in full, so the inputs and their sources can be followed.
#[test]
fn a_figure_names_its_inputs_and_their_sources() {
    let (s, m) = small();
    let needs = model::needs(&s, &Profile::default(), &m);
    let f = needs.get("signin_cpu").unwrap();
    let text: Vec<String> = f
        .inputs
        .iter()
        .map(|i| format!("{} = {} ({})", i.key, format::quantity(i.value), i.source))
        .collect();
    expect![[r#"
        signin_rate × (cores ÷ verifies_per_sec + signin_overhead_ms ÷ 1,000 × cpu_scale) = 0.0045 cores
        signin_rate = 0.20/s (model)
        cores = 2 cores (probe)
        verifies_per_sec = 100/s (probe)
        signin_overhead_ms = 2 ms (constant)
        cpu_scale = 1.3 (model)"#]]
    .assert_eq(&format!(
        "{} = {}\n{}",
        f.formula,
        format::quantity(f.value),
        text.join("\n")
    ));
}

/// `[web] max_connections = value` in the config (the verdict then asks for headroom).
fn set_max_connections(m: &mut Machine, value: usize) {
    m.limits.web_max_connections = value;
    for l in &mut m.limits.all {
        if l.key == "web.max_connections" {
            l.value = value as u64;
            l.source = "[web] max_connections".into();
        }
    }
}

fn one(s: &SchoolSize, p: &Profile, m: &Machine, r: Resource) -> schola_capacity::Verdict {
    let needs = model::needs(s, p, m);
    verdict::verdicts(s, p, m, &needs, None)
        .into_iter()
        .find(|v| v.resource == r)
        .unwrap_or_else(|| unreachable!("no verdict on {}", r.key()))
}

#[test]
fn headroom_of_exactly_25_per_cent_is_ok_and_need_equal_to_have_is_warn() {
    let (s, mut m) = small();
    let p = Profile::default();
    let needs = model::needs(&s, &p, &m);
    let need = needs.value("connections").unwrap();
    assert_eq!(need, 861.0, "130 × 0.95 × 6 + 20 × 6");

    set_max_connections(&mut m, 1_076); // 861 × 1.25 = 1,076.25: just short of 25 %
    let v = one(&s, &p, &m, Resource::Connections);
    assert_eq!(v.level, Level::Warn);
    set_max_connections(&mut m, 1_077);
    let v = one(&s, &p, &m, Resource::Connections);
    assert_eq!(v.level, Level::Ok, "{}", describe(&v));

    // exactly 25 % with numbers that are exact in binary: 800 connections, 1,000 allowed
    let p8 = Profile {
        connections_per_browser: 8.0,
        students_online: 1.0,
        ..Profile::default()
    };
    let s100 = school(80, 20);
    set_max_connections(&mut m, 1_000);
    let v = one(&s100, &p8, &m, Resource::Connections);
    assert_eq!(v.headroom_pct, Some(25.0));
    assert_eq!(v.level, Level::Ok);
    assert_eq!(v.action, None);
    assert_eq!(describe(&v), "needed 800, have 1,000, headroom 25 %");

    set_max_connections(&mut m, 800);
    let v = one(&s100, &p8, &m, Resource::Connections);
    assert_eq!(v.level, Level::Warn, "need == have is not yet a failure");
    assert_eq!(describe(&v), "needed 800, have 800, headroom 0 %");
    assert_eq!(
        v.action,
        Some(Action::SetConfig {
            section: "web".into(),
            key: "max_connections".into(),
            value: 1_000
        })
    );

    set_max_connections(&mut m, 799);
    let v = one(&s100, &p8, &m, Resource::Connections);
    assert_eq!(v.level, Level::Fail);

    // a derived limit grows with the school at the next start: holding today's need is enough
    let (s, m) = small();
    let mut derived = m.clone();
    derived.limits.web_max_connections = 900;
    assert_eq!(
        one(&s, &p, &derived, Resource::Connections).level,
        Level::Ok
    );
    derived.limits.web_max_connections = 860;
    assert_eq!(
        one(&s, &p, &derived, Resource::Connections).level,
        Level::Fail
    );
}

#[test]
fn the_issue_example_512_connections_for_1900_expected() {
    // 1,900 connections at 8:00 against a configured 512
    let (_, mut m) = medium();
    set_max_connections(&mut m, 512);
    let p = Profile {
        students_online: 1.0,
        connections_per_browser: 5.0,
        ..Profile::default()
    };
    let v = one(&school(340, 40), &p, &m, Resource::Connections);
    assert_eq!(v.level, Level::Fail);
    assert_eq!(describe(&v), "needed 1,900, have 512, headroom −73 %");
    let a = v.action.unwrap();
    assert_eq!(a.to_string(), "set [web] max_connections = 3000");
    assert!(a.fixable());

    // on a machine whose memory cannot hold them, memory is what to buy
    let (_, mut tiny) = small();
    tiny.memory.total = GIB;
    set_max_connections(&mut tiny, 512);
    let v = one(&school(340, 40), &p, &tiny, Resource::Connections);
    assert!(
        matches!(v.action, Some(Action::AddMemory { .. })),
        "{:?}",
        v.action
    );
}

#[test]
fn memory_is_bought_in_sizes_one_can_buy() {
    let (s, mut m) = large();
    m.memory.total = 4 * GIB;
    let v = one(&s, &Profile::default(), &m, Resource::Memory);
    assert_eq!(v.level, Level::Fail);
    let Some(Action::AddMemory { bytes }) = v.action else {
        panic!("{:?}", v.action)
    };
    assert!(
        [4, 8, 16, 32, 64].map(|g| g * GIB).contains(&bytes),
        "{bytes}"
    );
    // after buying it, the need fits with the WARN headroom
    m.memory.total += bytes;
    assert_eq!(
        one(&s, &Profile::default(), &m, Resource::Memory).level,
        Level::Ok
    );
}

#[test]
fn disk_full_in_exactly_30_days_is_warn_and_a_day_less_is_fail() {
    let (s, mut m) = small();
    // a school year of every calendar day, so school days and calendar days agree
    let p = Profile {
        school_days: 365.0,
        ..Profile::default()
    };
    let growth = model::needs(&s, &p, &m)
        .value("disk_growth_per_day")
        .unwrap();
    assert_eq!(growth, 130.0 * 3e6 + 20.0 * 25e6 + 150.0 * 10.0 * 75e3);
    let free_for = |days: f64| (growth * days) as u64;

    m.filesystems[1].free = free_for(30.0);
    let v = one(&s, &p, &m, Resource::DiskSpace);
    assert_eq!(v.level, Level::Warn);
    let Some(Action::AddDisk {
        bytes,
        full_in_days: Some(days),
    }) = v.action
    else {
        panic!("{:?}", v.action)
    };
    assert_eq!(days, 30.0);
    assert!(bytes as f64 >= growth * 365.0, "a year's growth");
    assert_eq!(
        v.action.unwrap().to_string(),
        "the disk is full in 30 days: add 512 GiB"
    );

    m.filesystems[1].free = free_for(29.0);
    assert_eq!(one(&s, &p, &m, Resource::DiskSpace).level, Level::Fail);
    m.filesystems[1].free = free_for(364.0);
    assert_eq!(one(&s, &p, &m, Resource::DiskSpace).level, Level::Warn);
    m.filesystems[1].free = free_for(365.0);
    assert_eq!(one(&s, &p, &m, Resource::DiskSpace).level, Level::Ok);

    // the default 190 school days stretch a school day's growth over more calendar days
    m.filesystems[1].free = free_for(30.0);
    let v = one(&s, &Profile::default(), &m, Resource::DiskSpace);
    assert_eq!(v.level, Level::Warn);
}

#[test]
fn a_missing_uplink_is_a_warning_that_asks_for_it() {
    let (s, m) = small();
    let v = one(&s, &Profile::default(), &m, Resource::Uplink);
    assert_eq!(v.level, Level::Warn);
    assert_eq!(v.action, Some(Action::EnterUplink));
    assert_eq!(describe(&v), "needed 29 Mbit/s, have unknown");

    let p = Profile {
        uplink_bits: Some(16e6),
        ..Profile::default()
    };
    let v = one(&s, &p, &m, Resource::Uplink);
    assert_eq!(v.level, Level::Fail);
    assert_eq!(
        describe(&v),
        "needed 29 Mbit/s, have 16 Mbit/s, headroom −44 %"
    );
    let p = Profile {
        uplink_bits: Some(100e6),
        ..Profile::default()
    };
    assert_eq!(one(&s, &p, &m, Resource::Uplink).level, Level::Ok);
}

#[test]
fn an_unknown_link_speed_is_not_checked_and_says_so() {
    let (s, mut m) = small();
    m.nics[1].speed_mbit = None;
    let v = one(&s, &Profile::default(), &m, Resource::Network);
    assert_eq!(v.level, Level::Ok);
    assert_eq!(
        v.action.map(|a| a.to_string()).as_deref(),
        Some("the link speed of eth0 is not reported (virtual or wireless): not checked")
    );
}

#[test]
fn a_measured_storm_replaces_the_modelled_sign_in_rate() {
    let (s, m) = small();
    let p = Profile {
        storm_window_secs: 10.0,
        ..Profile::default()
    };
    let storm = StormMeasurement {
        at: 0,
        people: 150,
        window_secs: 10.0,
        signins_per_sec: 8.0,
        p99_signin_ms: 9_000.0,
        p99_start_page_ms: 40.0,
        errors: 0,
        waiting_room: 12,
        predicted_signins_per_sec: model::signin_capacity(&m),
    };
    let needs = model::needs(&s, &p, &m);
    let v = verdict::verdicts(&s, &p, &m, &needs, Some(&storm))
        .into_iter()
        .find(|v| v.resource == Resource::SigninCpu)
        .unwrap();
    assert!(v.measured);
    assert_eq!(v.level, Level::Fail);
    assert_eq!(
        describe(&v),
        "needed 12/s, have 8/s (measured), headroom −33 %"
    );
    // 12/s × 1.25 at 4/s per core: 4 cores
    assert_eq!(v.action, Some(Action::AddCores { cores: 4 }));
}

#[test]
fn largest_school_grows_with_cores_and_with_verify_speed() {
    let p = Profile::default();
    let mut last = 0;
    for cores in [1, 2, 4, 8, 16] {
        let m = machine(cores, 64, 1_000, 1_000);
        let n = model::school_bounds(&m, &p).signin;
        assert!(n > last, "{cores} cores: {n} after {last}");
        assert!(model::largest_school(&m, &p) <= n);
        last = n;
    }
    let mut last = 0;
    for rate in [5.0, 10.0, 25.0, 50.0, 100.0] {
        let mut m = machine(2, 4, 100, 1_000);
        m.argon2.verifies_per_sec = rate;
        let n = model::largest_school(&m, &p);
        let signin = model::school_bounds(&m, &p).signin;
        assert!(signin > last, "{rate}/s: {signin} after {last}");
        assert!(n <= signin);
        last = signin;
    }
    // a short, sharp storm makes the sign-ins the bound, and it scales with the window
    let m = machine(2, 64, 100, 1_000);
    let sharp = Profile {
        storm_window_secs: 30.0,
        ..Profile::default()
    };
    let b = model::school_bounds(&m, &sharp);
    assert_eq!(model::largest_school(&m, &sharp), b.signin);
    let b10 = model::school_bounds(
        &m,
        &Profile {
            storm_window_secs: 300.0,
            ..sharp
        },
    );
    assert!((b10.signin as f64 / b.signin as f64 - 10.0).abs() < 0.01);
}

#[test]
fn fewer_hash_threads_than_cores_cap_the_sign_ins() {
    let (_, mut m) = medium();
    let all = model::signin_capacity(&m);
    m.limits.web_hash_threads = 1;
    let one_thread = model::signin_capacity(&m);
    assert!(
        (one_thread - VERIFIES_PER_CORE).abs() < 1e-9,
        "one thread verifies 50/s: {one_thread}"
    );
    assert!(all > 3.0 * one_thread);
    // more threads than cores do not add capacity
    m.limits.web_hash_threads = 64;
    assert_eq!(model::signin_capacity(&m), all);
}

#[test]
fn a_quota_of_half_a_core_halves_the_capacity() {
    // the probe in a cgroup of 0.5 cores counts 1 core that verifies half as fast
    let mut m = machine(1, 4, 100, 150);
    let full = model::signin_capacity(&m);
    m.argon2.verifies_per_sec /= 2.0;
    let half = model::signin_capacity(&m);
    assert!((half / full - 0.5).abs() < 1e-9, "{half} vs {full}");
    assert!(model::utilisation_target(&m) <= model::utilisation_target(&machine(2, 4, 100, 150)));
}

#[test]
fn figures_survive_json_even_when_the_probe_measured_nothing() {
    let (s, mut m) = small();
    m.argon2.verifies_per_sec = 0.0;
    m.cores = 0;
    let needs = model::needs(&s, &Profile::default(), &m);
    let json = serde_json::to_string(&needs).unwrap();
    let back: schola_capacity::Needs = serde_json::from_str(&json).unwrap();
    assert_eq!(back.figures.len(), needs.figures.len());
    assert!(back.figures.iter().all(|f| f.value.value.is_finite()));
    assert_eq!(model::largest_school(&m, &Profile::default()), 0);
}

#[test]
fn a_fractional_quota_lets_the_spare_cpu_do_the_overhead() {
    // 1.5 cores: one hash thread (the core count rounds down) verifies at full speed, and the
    // spare half core does the TLS and the pages, so the hash thread is the limit
    let mut m = machine(1, 4, 100, 150);
    let one_core = model::signin_capacity(&m);
    m.cpu_quota = Some(1.5);
    let per_thread = m.argon2.verifies_per_sec;
    assert_eq!(model::signin_capacity(&m), per_thread);
    assert!(
        per_thread > one_core,
        "the overhead no longer shares the one core"
    );
    // half a core: one thread that got half of one; the CPU per verify is what it was
    m.cpu_quota = Some(0.5);
    m.argon2.verifies_per_sec = per_thread / 2.0;
    let half = model::signin_capacity(&m);
    assert!((half / one_core - 0.5).abs() < 0.01, "{half} vs {one_core}");
    assert!((model::verify_cpu_secs(&m) - 1.0 / per_thread).abs() < 1e-9);
}
