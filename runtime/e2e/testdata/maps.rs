//! Rust guest of the map tests (maps_rust_test.go), on the wbpf crate: typed hash and array maps
//! (update, lookup, iteration, delete), per-CPU array and hash values, and the SDK's errors. It
//! checks every result itself (FAIL line and exit 1 otherwise) and prints what the test checks.
//!
//! usage: maps.wasm NCPUS|sysfs      (maps.bpf.o is embedded from next to this file)
use std::process::exit;

use wbpf::{Object, Pod, BPF_ANY};

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Pair {
    a: u32,
    b: u32,
    c: u64,
}
unsafe impl Pod for Pair {}

fn ok<T>(r: wbpf::Result<T>, what: &str) -> T {
    r.unwrap_or_else(|e| fail(&format!("{}: {}", what, e)))
}

fn fail(msg: &str) -> ! {
    println!("FAIL {}", msg);
    exit(1)
}

fn errno_of<T: std::fmt::Debug>(r: wbpf::Result<T>, what: &str) -> String {
    match r {
        Ok(v) => fail(&format!("{}: succeeded ({:?}), want an error", what, v)),
        Err(e) => format!("{:?}", e.errno()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(|s| s.as_str()) {
        Some("sysfs") => println!("possible_cpus={}", ok(wbpf::num_possible_cpus(), "possible cpus")),
        Some(n) => wbpf::set_num_possible_cpus(n.parse().unwrap_or_else(|_| fail("usage: maps.wasm NCPUS|sysfs"))),
        None => fail("usage: maps.wasm NCPUS|sysfs"),
    }
    println!("not_elf={}", errno_of(Object::open(b"not an object"), "open junk").as_str());

    let mut obj = ok(Object::open(include_bytes!("maps.bpf.o")), "open");
    println!("map_before_load={}", errno_of(obj.map("wbpfe2e_hash"), "map before load"));
    ok(obj.load(), "load");
    println!("load_twice={}", errno_of(obj.load(), "load twice"));
    println!("map_missing={}", errno_of(obj.map("nope"), "map nope"));
    println!("attach_missing={}", errno_of(obj.attach("nope"), "attach nope"));

    // Hash: 5 keys, iterated from no key to the end, one deleted.
    println!("typed_wrong_value={}", errno_of(ok(obj.map("wbpfe2e_hash"), "map hash").typed::<u32, u32>(), "typed with a 4-byte value"));
    println!("typed_per_cpu={}", errno_of(ok(obj.map("wbpfe2e_pcpu_a"), "map pcpu_a").typed::<u32, u64>(), "typed on a per-CPU map"));
    println!("per_cpu_not={}", errno_of(ok(obj.map("wbpfe2e_hash"), "map hash").per_cpu::<u32, u64>(), "per_cpu on a hash map"));
    let raw = ok(obj.map("wbpfe2e_hash"), "map hash");
    let mut short = [0u8; 4];
    println!("lookup_short_value={}", errno_of(raw.lookup_bytes(&1u32.to_le_bytes(), &mut short), "lookup into 4 bytes"));
    println!("sizes={}/{}", raw.key_size(), raw.value_size());
    let hash = ok(ok(obj.map("wbpfe2e_hash"), "map hash").typed::<u32, u64>(), "typed hash");
    for k in 1..=5u32 {
        ok(hash.update(&k, &(k as u64 * 100), BPF_ANY), "hash update");
    }
    let mut n = 0;
    for kv in hash.iter() {
        let (k, v) = ok(kv, "hash iter");
        if v != k as u64 * 100 {
            fail(&format!("hash[{}] = {}", k, v));
        }
        n += 1;
    }
    println!("hash_keys={}", n);
    // The kernel's order: after the last key there is none (a key not in the map would give the
    // first one instead).
    let last = hash.keys().last().map(|k| ok(k, "hash keys")).unwrap_or_else(|| fail("no keys"));
    println!("hash_next_after_last={:?}", ok(hash.next_key(Some(&last)), "next key"));
    println!("hash_delete={}", ok(hash.delete(&3), "delete"));
    println!("hash_delete_again={}", ok(hash.delete(&3), "delete again"));
    println!("hash_lookup_deleted={:?}", ok(hash.lookup(&3), "lookup deleted"));
    println!("hash_keys_after_delete={}", hash.keys().count());

    // Array of structs: every index, summed; an array cannot delete (EINVAL from the kernel).
    let array = ok(ok(obj.map("wbpfe2e_array"), "map array").typed::<u32, Pair>(), "typed array");
    for k in 0..8u32 {
        ok(array.update(&k, &Pair { a: k, b: 2 * k, c: 1000 * (k as u64 + 1) }, BPF_ANY), "array update");
    }
    let sum: u64 = array.iter().map(|kv| ok(kv, "array iter").1.c).sum();
    println!("array_keys={} array_sum={}", array.keys().count(), sum);
    if ok(array.lookup(&5), "array lookup") != Some(Pair { a: 5, b: 10, c: 6000 }) {
        fail("array[5]");
    }
    println!("array_delete={}", errno_of(array.delete(&1), "array delete"));

    // Per-CPU array: key k holds (k+1)*10 + cpu on each CPU.
    let pa = ok(ok(obj.map("wbpfe2e_pcpu_a"), "map pcpu_a").per_cpu::<u32, u64>(), "per cpu");
    let cpus = pa.cpus();
    for k in 0..4u32 {
        let vals: Vec<u64> = (0..cpus).map(|c| (k as u64 + 1) * 10 + c as u64).collect();
        ok(pa.update(&k, &vals, BPF_ANY), "pcpu_a update");
    }
    for kv in pa.iter() {
        let (k, vals) = ok(kv, "pcpu_a iter");
        println!("key={} sum={}", k, vals.iter().sum::<u64>());
    }
    println!("pcpu_wrong_count={}", errno_of(pa.update(&0, &[1u64], BPF_ANY), "pcpu update with one value"));

    // Per-CPU hash of 4-byte values (each CPU's slot rounded up to 8 bytes).
    let ph = ok(ok(obj.map("wbpfe2e_pcpu_h"), "map pcpu_h").per_cpu::<u32, u32>(), "per cpu");
    let vals: Vec<u32> = (0..cpus).map(|c| 1000 + c as u32).collect();
    ok(ph.update(&7, &vals, BPF_ANY), "pcpu_h update");
    let got = ok(ph.lookup(&7), "pcpu_h lookup").unwrap_or_else(|| fail("pcpu_h[7] missing"));
    if got != vals {
        fail(&format!("pcpu_h[7] = {:?}, want {:?}", got, vals));
    }
    println!("sum={}", got.iter().map(|&v| v as u64).sum::<u64>());

    ok(obj.close(), "close");
    println!("map_after_close={}", errno_of(hash.lookup(&1), "lookup after close"));
    println!("closed");
}
