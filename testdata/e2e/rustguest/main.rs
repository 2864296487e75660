//! Rust guest of the layout end-to-end test (btfgen/e2e): uses the bindings that
//! `wbpfgen rust layout.bpf.o` generates (layout_bpf.rs, written next to this file by the
//! test), sets .rodata before load, prints every field of every LayEvent it receives, then the
//! .bss counter.
//!
//! usage: layout.wasm TGID MAGIC N

mod layout_bpf;

use std::cell::Cell;
use std::process::exit;
use std::time::Duration;

use layout_bpf::{LayEvent, LayoutSkel};

fn check<T>(r: Result<T, wbpf::Error>, what: &str) -> T {
    r.unwrap_or_else(|e| {
        println!("FAIL {}: {}", what, e);
        exit(1)
    })
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| {
        println!("FAIL {}: usage: layout.wasm TGID MAGIC N", what);
        exit(1)
    })
}

fn print_event(e: &LayEvent) {
    // Copies: fields of a packed struct cannot be borrowed, and format! borrows.
    let (pk, un) = (e.pk, e.un);
    let (pk_a, pk_b) = (pk.a, pk.b);
    let ub = un.ub();
    print!("event u32a={} u64b={} name={} s8={} s16={} ptr={} lng={}", e.u32a, e.u64b, wbpf::c_str(&e.name), e.s8, e.s16, e.ptr, e.lng);
    print!(" bf1={} bf2={} bf3={} bf4={}", e.bf1(), e.bf2(), e.bf3(), e.bf4());
    print!(" ux={} ub0={} ub5={} anon_u64={} anon_u16={}", un.ux(), ub[0], ub[5], e.anon0.anon_u64(), e.anon0.anon_u16());
    print!(
        " n1={} n2={} inner_a={} inner_b={} inner_c={} inners0_a={} inners1_c={}",
        e.nested_anon.n1, e.nested_anon.n2, e.inner.a, e.inner.b, e.inner.c, e.inners[0].a, e.inners[1].c
    );
    println!(
        " color={} small={} flag={} pk_a={} pk_b={} neg={} rodata_echo={} seq={}",
        e.color.0, e.small.0, e.flag.0, pk_a, pk_b, e.neg, e.rodata_echo, e.seq
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tgid: u32 = arg(&args, 1, "tgid");
    let magic: u64 = arg(&args, 2, "magic");
    let want: usize = arg(&args, 3, "n");

    let open = check(LayoutSkel::open(), "open");
    check(open.rodata().set_target_tgid(tgid), "set target_tgid");
    check(open.rodata().set_magic(magic), "set magic");
    let skel = check(open.load(), "load");
    check(skel.attach(), "attach");

    let received = Cell::new(0usize);
    let mut rd = check(
        skel.maps.lay_events_reader(|e: &LayEvent| {
            received.set(received.get() + 1);
            print_event(e);
        }),
        "reader",
    );
    println!("attached");
    for _ in 0..100 {
        if received.get() >= want {
            break;
        }
        check(rd.poll(Duration::from_millis(100)), "poll");
    }
    if rd.truncated() > 0 {
        println!("FAIL {} samples truncated", rd.truncated());
    }
    drop(rd);
    let hits = check(skel.bss().hits(), "read .bss");
    println!("hits={}", hits);
    println!("received={}", received.get());
    drop(skel);
    if received.get() != want {
        exit(1);
    }
}
