use proptest::prelude::*;

use super::*;

/// (dec, hex, dothex, f58, words) from fluid.md.
const VECTORS: &[(u64, &str, &str, &str, &str)] = &[
    (
        0,
        "0x0",
        "0000.0000.0000.0000",
        "ƒ1",
        "academy-academy-academy--academy-academy-academy",
    ),
    (
        1,
        "0x1",
        "0000.0000.0000.0001",
        "ƒ2",
        "acrobat-academy-academy--academy-academy-academy",
    ),
    (
        6731191091817518,
        "0x17e9fb8df16c2e",
        "0017.e9fb.8df1.6c2e",
        "ƒuZZybuNNy",
        "reform-remote-galileo--heart-package-academy",
    ),
    (
        18446744073709551615,
        "0xffffffffffffffff",
        "ffff.ffff.ffff.ffff",
        "ƒjpXCZedGfVQ",
        "natural-analyze-verbal--natural-analyze-verbal",
    ),
];

#[test]
fn spec_vectors_encode_and_parse() {
    for &(dec, hex, dothex, f58, words) in VECTORS {
        let id = JobId(dec);
        assert_eq!(id.encode(JobIdEncoding::Dec), dec.to_string());
        assert_eq!(id.encode(JobIdEncoding::Hex), hex);
        assert_eq!(id.encode(JobIdEncoding::Dothex), dothex);
        assert_eq!(id.encode(JobIdEncoding::Kvs), format!("job.{dothex}"));
        assert_eq!(id.encode(JobIdEncoding::F58), f58);
        assert_eq!(id.encode(JobIdEncoding::F58Plain), f58.replace('ƒ', "f"));
        assert_eq!(id.encode(JobIdEncoding::Words), words);
        assert_eq!(id.to_string(), f58);
        for enc in JobIdEncoding::ALL {
            assert_eq!(JobId::parse(&id.encode(enc)), Ok(id), "{enc}");
        }
    }
}

#[test]
fn table_example_318793880436736() {
    let id = JobId(318793880436736);
    assert_eq!(id.to_f58(), "ƒ3VPB8ZEqV");
    assert_eq!(id.to_f58_plain(), "f3VPB8ZEqV");
    assert_eq!(format!("{id:#}"), "f3VPB8ZEqV");
    assert_eq!(format!("{id:>12}|{id:<11}|"), "  ƒ3VPB8ZEqV|ƒ3VPB8ZEqV |");
    assert_eq!(id.to_kvs(), "job.0001.21f0.fc00.0000");
    assert_eq!(id.to_words(), "rufus-cowboy-venice--andrea-arthur-academy");
    assert_eq!(id.to_emoji(), "😂😌👌🚒📆🍹");
    assert_eq!(
        (id.timestamp(), id.generator(), id.sequence()),
        (19001596, 0, 0)
    );
    assert_eq!("😂😌👌🚒📆🍹".parse(), Ok(id));
}

#[test]
fn kvs_helpers() {
    let id = JobId(318793880436736);
    assert_eq!(id.kvs_key("eventlog"), "job.0001.21f0.fc00.0000.eventlog");
    assert_eq!(id.guest_namespace(), "job-318793880436736");
}

#[test]
fn doc_ids_decode() {
    assert_eq!(JobId::parse("ƒM7Zq9AKHno"), Ok(JobId(149394041430081536)));
    assert_eq!(JobId(149394041430081536).to_dothex(), "0212.c116.d300.0000");
    assert_eq!(JobId::parse("ƒJqUHUCzX9"), Ok(JobId(2284094293540864)));
    assert_eq!(JobId::parse("ƒN8Pz2xVu"), Ok(JobId(46649233637376)));
    assert_eq!(JobId(0).to_emoji(), "😃");
}

#[test]
fn invalid_inputs_fail() {
    for bad in [
        "badstring",
        "job.0000.0000",
        "job.0000.0000.0000.000P",
        "42plusbad",
        "meep",
        "bad-words",
        "18446744073709551616",
        "",
        "   ",
        "0x",
        "0xfg",
        "-1",
        "+1",
        "f",
        "ƒ0",
        "fO",
        "f1111111111111",
        "ƒzzzzzzzzzzz",
        "0000.0000.0000.0000.0000",
        "00000.0000.0000.0000",
        "😃x",
    ] {
        assert!(JobId::parse(bad).is_err(), "{bad:?} should fail");
    }
    assert_eq!(JobId::parse(""), Err(FluidError::Empty));
    assert_eq!(
        JobId::parse("42plusbad"),
        Err(FluidError::Decimal("42plusbad".into()))
    );
    assert_eq!(
        JobId::parse("bad-words"),
        Err(FluidError::Words("bad-words".into()))
    );
    assert!(matches!(
        JobId::parse("academy-academy-foo--academy-academy-academy"),
        Err(FluidError::UnknownWord(w)) if w == "foo"
    ));
}

#[test]
fn parse_trims_and_accepts_short_dothex() {
    assert_eq!(JobId::parse("  42\n"), Ok(JobId(42)));
    assert_eq!(JobId::parse("1.2.3.4"), Ok(JobId(0x0001_0002_0003_0004)));
    assert_eq!(JobId::parse("job.0.0.0.ff"), Ok(JobId(255)));
    assert_eq!(JobId::parse("0xFF"), Ok(JobId(255)));
}

#[test]
fn parse_as_is_strict() {
    let id = JobId(318793880436736);
    for enc in JobIdEncoding::ALL {
        assert_eq!(JobId::parse_as(&id.encode(enc), enc), Ok(id), "{enc}");
    }
    assert!(JobId::parse_as("ƒ2", JobIdEncoding::F58Plain).is_err());
    assert!(JobId::parse_as("f2", JobIdEncoding::F58).is_err());
    assert!(JobId::parse_as("0000.0000.0000.0001", JobIdEncoding::Kvs).is_err());
    assert!(JobId::parse_as("12", JobIdEncoding::Hex).is_err());
    assert!(JobId::parse_as("0x12", JobIdEncoding::Dec).is_err());
}

#[test]
fn encoding_names() {
    for enc in JobIdEncoding::ALL {
        assert_eq!(enc.name().parse(), Ok(enc));
    }
    assert_eq!(
        "base64".parse::<JobIdEncoding>(),
        Err(FluidError::UnknownEncoding("base64".into()))
    );
}

#[test]
fn fields_and_parts() {
    let id = JobId::from_parts(1000, 5, 7).unwrap();
    assert_eq!(
        (id.timestamp(), id.generator(), id.sequence()),
        (1000, 5, 7)
    );
    assert!(JobId::from_parts(1 << 40, 0, 0).is_err());
    assert!(JobId::from_parts(0, 1 << 14, 0).is_err());
    assert!(JobId::from_parts(0, 0, 1024).is_err());
    // 1 min and 1 h after the epoch (fluid.md §1).
    assert_eq!(
        JobId::from_parts(60_000, 0, 0).unwrap().to_f58(),
        "ƒTSfi3Sf"
    );
    assert_eq!(
        JobId::from_parts(3_600_000, 0, 0).unwrap().to_f58(),
        "ƒUMZ3TXYK"
    );
}

#[test]
fn serde_integer_and_string() {
    let id = JobId(318793880436736);
    assert_eq!(serde_json::to_string(&id).unwrap(), "318793880436736");
    assert_eq!(
        serde_json::from_str::<JobId>("318793880436736").unwrap(),
        id
    );
    assert_eq!(serde_json::from_str::<JobId>("\"ƒ3VPB8ZEqV\"").unwrap(), id);
    assert!(serde_json::from_str::<JobId>("-1").is_err());
    assert!(serde_json::from_str::<JobId>("\"meep\"").is_err());
    assert!(serde_json::from_str::<JobId>("1.5").is_err());
}

proptest! {
    #[test]
    fn every_encoding_round_trips(v in any::<u64>()) {
        let id = JobId(v);
        for enc in JobIdEncoding::ALL {
            let s = id.encode(enc);
            prop_assert_eq!(JobId::parse(&s), Ok(id));
            prop_assert_eq!(JobId::parse_as(&s, enc), Ok(id));
        }
        prop_assert_eq!(id.to_string().parse::<JobId>(), Ok(id));
    }

    #[test]
    fn parts_round_trip(ts in 0..=MAX_TIMESTAMP, g in 0..=MAX_GENERATOR, s in 0..=MAX_SEQUENCE) {
        let id = JobId::from_parts(ts, g, s).unwrap();
        prop_assert_eq!((id.timestamp(), id.generator(), id.sequence()), (ts, g, s));
    }

    #[test]
    fn parse_never_panics(s in "\\PC*") {
        let _ = JobId::parse(&s);
    }
}
