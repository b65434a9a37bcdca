//! `portrelay zk` end to end, as an operator runs it: a seeded setup, a proof
//! from a witness file, verification with the statement, tampered and
//! malformed files refused by name, key and proof conversion, and the
//! third-party tools agreeing: `snarkjs groth16 verify` accepts the files and
//! the exported Solidity verifier, compiled by solc and run in the
//! ethereumjs EVM, accepts the proof and refuses a tampered one.
//!
//! Needs Node.js and `npm ci --prefix tools/interop` (`.ci/run` does both).

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::{json, Value};

fn portrelay(args: &[&str]) -> Output {
    Command::cargo_bin("portrelay")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn interop() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/interop");
    let ok = dir.join("node_modules/snarkjs").is_dir()
        && dir.join("node_modules/solc").is_dir()
        && dir.join("node_modules/@ethereumjs/evm").is_dir();
    assert!(
        ok,
        "the interop tools are missing: install Node.js and npm, then run \
         `npm ci --prefix tools/interop` (snarkjs, solc, @ethereumjs/evm)"
    );
    dir
}

fn node(args: &[&str]) -> Output {
    std::process::Command::new("node")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run node ({e}): install Node.js (apt-get install nodejs)")
        })
}

fn snarkjs_verify(vk: &Path, public: &Path, proof: &Path) -> String {
    let cli = interop().join("node_modules/snarkjs/build/cli.cjs");
    let o = node(&[p(&cli), "groth16", "verify", p(vk), p(public), p(proof)]);
    // snarkjs prints its verdict on stdout through its logger.
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Keys of depth 4, 2 records of 4 fields, and a witness disclosing two
/// settlement-like records of five: bill of lading (disclosed), amount (at
/// least 100,000.00), currency (disclosed), payer digest (hidden).
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    keys: PathBuf,
    witness: PathBuf,
    proof_dir: PathBuf,
}

const PAYER: &str = "9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

fn witness(at_least: u64) -> Value {
    let leaf = |i: u64, bl: &str, amount: u64| {
        json!({
            "salt": format!("{}", 1_000_003 * (i + 1)),
            "packet_id": format!("0x{:02x}", 0x40 + i),
            "fields": [{"code": bl}, {"amount": amount}, {"code": "USD"}, {"digest": PAYER}],
        })
    };
    json!({
        "leaves": [
            leaf(0, "COSU6100000001", 500_000),
            leaf(1, "COSU6182736450", 1_250_000_000),
            leaf(2, "COSU6100000002", 700_000),
            leaf(3, "COSU6182736451", 1_000_000_000),
            leaf(4, "COSU6100000003", 900_000),
        ],
        "disclose": [
            {"leaf": 1, "rules": ["disclose", {"at_least": at_least}, "disclose", "hidden"]},
            {"leaf": 3, "rules": ["disclose", {"at_least": at_least}, "disclose", "hidden"]},
        ],
    })
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let keys = root.join("keys");
    let o = portrelay(&[
        "zk",
        "setup",
        "--circuit",
        "disclosure",
        "--depth",
        "4",
        "--batch",
        "2",
        "--width",
        "4",
        "--out",
        p(&keys),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let witness_path = root.join("witness.json");
    std::fs::write(&witness_path, witness(1_000_000_000).to_string()).unwrap();
    let proof_dir = root.join("proof");
    let o = portrelay(&[
        "zk",
        "prove",
        "--keys",
        p(&keys),
        "--input",
        p(&witness_path),
        "--out",
        p(&proof_dir),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    Fixture {
        _dir: dir,
        root,
        keys,
        witness: witness_path,
        proof_dir,
    }
}

impl Fixture {
    fn vk_json(&self) -> PathBuf {
        self.keys.join("verification_key.json")
    }
    fn proof(&self) -> PathBuf {
        self.proof_dir.join("proof.json")
    }
    fn public(&self) -> PathBuf {
        self.proof_dir.join("public.json")
    }
    fn statement(&self) -> PathBuf {
        self.proof_dir.join("statement.json")
    }
    fn verify(&self, proof: &Path, public: &Path, statement: Option<&Path>) -> Output {
        let vk = self.vk_json();
        let mut args = vec![
            "zk",
            "verify",
            "--vk",
            p(&vk),
            "--proof",
            p(proof),
            "--public",
            p(public),
        ];
        if let Some(s) = statement {
            args.extend(["--statement", p(s)]);
        }
        portrelay(&args)
    }
    /// A copy of `file` with `edit` applied to its JSON.
    fn edited(&self, file: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        edit(&mut v);
        let out = self.root.join(name);
        std::fs::write(&out, v.to_string()).unwrap();
        out
    }
}

fn plus_one(decimal: &Value) -> Value {
    let n: num_bigint::BigUint = decimal.as_str().unwrap().parse().unwrap();
    Value::from((n + 1u32).to_string())
}

#[test]
fn setup_prove_verify_with_the_statement_and_snarkjs_agrees() {
    let f = fixture();
    for name in [
        "proving.key",
        "verifying.key",
        "verification_key.json",
        "circuit.json",
    ] {
        assert!(f.keys.join(name).is_file(), "{name} missing");
    }
    let circuit: Value =
        serde_json::from_str(&std::fs::read_to_string(f.keys.join("circuit.json")).unwrap())
            .unwrap();
    assert_eq!(circuit["depth"], 4);
    assert_eq!(circuit["batch"], 2);
    assert!(circuit["constraints"].as_u64().unwrap() > 0);
    assert!(circuit["setup"]
        .as_str()
        .unwrap()
        .contains("UNSAFE FOR PRODUCTION"));

    // A second setup into the same directory does not overwrite the keys.
    let o = portrelay(&[
        "zk",
        "setup",
        "--depth",
        "4",
        "--batch",
        "2",
        "--width",
        "4",
        "--out",
        p(&f.keys),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));

    // What the proof says: the hidden amount and payer are not in it.
    let statement = std::fs::read_to_string(f.statement()).unwrap();
    assert!(!statement.contains("1250000000"), "{statement}");
    assert!(
        !statement.contains(&circuits_digest_decimal()),
        "{statement}"
    );
    let s: Value = serde_json::from_str(&statement).unwrap();
    assert_eq!(
        s["records"][0]["rules"][1],
        json!({"at_least": 1_000_000_000u64})
    );
    assert_eq!(s["records"][0]["rules"][3], json!("hidden"));

    let o = f.verify(&f.proof(), &f.public(), Some(&f.statement()));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "OK\n");

    // snarkjs reads the same three files and accepts them.
    let verdict = snarkjs_verify(&f.vk_json(), &f.public(), &f.proof());
    assert!(verdict.contains("OK!"), "snarkjs: {verdict}");

    // A public input off by one: both refuse.
    let public = f.edited(&f.public(), "public-plus-one.json", |v| {
        v[0] = plus_one(&v[0])
    });
    let o = f.verify(&f.proof(), &public, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("INVALID: pairing"), "{}", text(&o));
    let verdict = snarkjs_verify(&f.vk_json(), &public, &f.proof());
    assert!(verdict.contains("Invalid proof"), "snarkjs: {verdict}");

    // A stronger claim than the proof makes: the statement check names it.
    let stronger = f.edited(&f.statement(), "stronger.json", |v| {
        v["records"][0]["rules"][1] = json!({"at_least": 2_000_000_000u64});
    });
    let o = f.verify(&f.proof(), &f.public(), Some(&stronger));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("INVALID: statement:"), "{}", text(&o));
}

/// The payer digest as the field element the record holds, in decimal: it
/// must not appear in a statement that hides it.
fn circuits_digest_decimal() -> String {
    let mut d = [0u8; 32];
    hex::decode_to_slice(PAYER, &mut d).unwrap();
    circuits::encode::to_decimal(&circuits::encode::digest(&d))
}

#[test]
fn bad_proofs_and_witnesses_are_refused_by_name() {
    let f = fixture();
    // A point off the curve.
    let off = f.edited(&f.proof(), "off-curve.json", |v| {
        v["pi_a"][1] = plus_one(&v["pi_a"][1])
    });
    let o = f.verify(&off, &f.public(), None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("pi_a") && text(&o).contains("not on the curve"),
        "{}",
        text(&o)
    );
    // A public input at the scalar field modulus.
    let big = f.edited(&f.public(), "modulus.json", |v| {
        v[0] =
            json!("21888242871839275222246405745257275088548364400416034343698204186575808495617")
    });
    let o = f.verify(&f.proof(), &big, None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("modulus"), "{}", text(&o));
    // Not JSON at all: an input error, not a verdict.
    let junk = f.root.join("junk.json");
    std::fs::write(&junk, "proof?").unwrap();
    let o = f.verify(&junk, &f.public(), None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("junk.json"), "{}", text(&o));

    // A witness whose amount is below the rule: no proof, the record and field named.
    let strict = f.root.join("strict.json");
    std::fs::write(&strict, witness(2_000_000_000).to_string()).unwrap();
    let out = f.root.join("strict-proof");
    let o = portrelay(&[
        "zk",
        "prove",
        "--keys",
        p(&f.keys),
        "--input",
        p(&strict),
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("record 0") && text(&o).contains("field 1"),
        "{}",
        text(&o)
    );
    assert!(!out.join("proof.json").exists());
    // A witness with a field the key's records do not have.
    let wide = f.edited(&f.witness, "wide.json", |v| {
        v["leaves"][2]["fields"]
            .as_array_mut()
            .unwrap()
            .push(json!("1"));
    });
    let o = portrelay(&[
        "zk",
        "prove",
        "--keys",
        p(&f.keys),
        "--input",
        p(&wide),
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("leaves[2]: 5 fields"), "{}", text(&o));
}

#[test]
fn keys_and_proofs_convert_both_ways_and_the_solidity_verifier_agrees() {
    let f = fixture();
    let vk_json = f.root.join("vk.json");
    let o = portrelay(&[
        "zk",
        "export",
        "--vk",
        p(&f.keys.join("verifying.key")),
        "--out",
        p(&vk_json),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&vk_json).unwrap(),
        std::fs::read_to_string(f.vk_json()).unwrap()
    );
    let vk_bin = f.root.join("vk.bin");
    let o = portrelay(&[
        "zk",
        "import",
        "--vk",
        p(&vk_json),
        "--depth",
        "4",
        "--batch",
        "2",
        "--width",
        "4",
        "--out",
        p(&vk_bin),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(&vk_bin).unwrap(),
        std::fs::read(f.keys.join("verifying.key")).unwrap()
    );
    let o = portrelay(&["zk", "import", "--vk", p(&vk_json), "--out", p(&vk_bin)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--depth, --batch and --width"),
        "{}",
        text(&o)
    );

    let proof_bin = f.root.join("proof.bin");
    let o = portrelay(&[
        "zk",
        "import",
        "--proof",
        p(&f.proof()),
        "--out",
        p(&proof_bin),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&proof_bin).unwrap().len(), 128);
    let proof_back = f.root.join("proof-back.json");
    let o = portrelay(&[
        "zk",
        "export",
        "--proof",
        p(&proof_bin),
        "--out",
        p(&proof_back),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&proof_back).unwrap(),
        std::fs::read_to_string(f.proof()).unwrap()
    );
    // The binary key verifies the snarkjs proof too.
    let o = portrelay(&[
        "zk",
        "verify",
        "--vk",
        p(&vk_bin),
        "--proof",
        p(&proof_back),
        "--public",
        p(&f.public()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The Solidity verifier, compiled and run in an EVM.
    let sol = f.root.join("Verifier.sol");
    let o = portrelay(&[
        "zk",
        "export-verifier",
        "--solidity",
        "--vk",
        p(&f.keys.join("verifying.key")),
        "--out",
        p(&sol),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let script = interop().join("evm-verify.mjs");
    let run = |public: &Path| {
        let o = node(&[
            p(&script),
            p(&sol),
            "PortrelayDisclosureVerifier",
            p(&f.proof()),
            p(public),
        ]);
        assert_eq!(o.status.code(), Some(0), "evm-verify: {}", text(&o));
        // solc compiled it without a warning.
        assert!(o.stderr.is_empty(), "evm-verify: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let good = run(&f.public());
    assert!(good.contains("verifyProof: true"), "{good}");
    let tampered = f.edited(&f.public(), "public-plus-one.json", |v| {
        v[0] = plus_one(&v[0])
    });
    let bad = run(&tampered);
    assert!(bad.contains("verifyProof: false"), "{bad}");
    let big = f.edited(&f.public(), "modulus.json", |v| {
        v[0] =
            json!("21888242871839275222246405745257275088548364400416034343698204186575808495617")
    });
    let bad = run(&big);
    assert!(bad.contains("verifyProof: false"), "{bad}");
    // Without --solidity there is no target.
    let o = portrelay(&[
        "zk",
        "export-verifier",
        "--vk",
        p(&vk_bin),
        "--out",
        p(&sol),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `zk verify` tells JSON from binary keys by parsing (a leading newline
/// is still JSON), refuses unknown fields and repeated keys in snarkjs
/// files as unreadable input, and names every refusal's check.
#[test]
fn zk_verify_parses_formats_and_names_every_refusal() {
    let f = fixture();
    let vk_text = std::fs::read_to_string(f.vk_json()).unwrap();
    let verify_with = |vk: &Path, proof: &Path, public: &Path| {
        portrelay(&[
            "zk",
            "verify",
            "--vk",
            p(vk),
            "--proof",
            p(proof),
            "--public",
            p(public),
        ])
    };
    // A leading newline or spaces: JSON still, and the key verifies.
    let spaced = f.root.join("spaced.json");
    std::fs::write(&spaced, format!("\n  {vk_text}")).unwrap();
    let o = verify_with(&spaced, &f.proof(), &f.public());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The binary key verifies the same proof.
    let o = verify_with(&f.keys.join("verifying.key"), &f.proof(), &f.public());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // An unknown field and a repeated key: unreadable input, named.
    let extra = f.edited(&f.proof(), "extra.json", |v| {
        v["pi_d"] = json!(["1", "2", "1"])
    });
    let o = f.verify(&extra, &f.public(), None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown field \"pi_d\""), "{}", text(&o));
    let proof_text = std::fs::read_to_string(f.proof()).unwrap();
    let twice = f.root.join("twice.json");
    std::fs::write(
        &twice,
        proof_text.replacen('{', "{\"protocol\": \"groth16\",", 1),
    )
    .unwrap();
    let o = f.verify(&twice, &f.public(), None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("duplicate key \"protocol\""),
        "{}",
        text(&o)
    );
    let vk_twice = f.root.join("vk-twice.json");
    std::fs::write(&vk_twice, vk_text.replacen('{', "{\"nPublic\": 1,", 1)).unwrap();
    let o = verify_with(&vk_twice, &f.proof(), &f.public());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("duplicate key \"nPublic\""),
        "{}",
        text(&o)
    );
    // Each verdict starts with its check's name.
    let off = f.edited(&f.proof(), "off.json", |v| {
        v["pi_c"][1] = plus_one(&v["pi_c"][1])
    });
    let two = f.edited(&f.public(), "two.json", |v| {
        v.as_array_mut().unwrap().push(json!("1"))
    });
    let protocol = f.edited(&f.proof(), "plonk.json", |v| v["protocol"] = json!("plonk"));
    let infinity = f.edited(&f.proof(), "identity.json", |v| {
        v["pi_a"] = json!(["0", "1", "0"])
    });
    for (proof, public, check) in [
        (&off, &f.public(), "INVALID: not_on_curve: "),
        (&f.proof(), &two, "INVALID: public_count: "),
        (&protocol, &f.public(), "INVALID: unsupported: "),
        (&infinity, &f.public(), "INVALID: identity: "),
    ] {
        let o = f.verify(proof, public, None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).starts_with(check),
            "{check}: {}",
            text(&o)
        );
    }
}
