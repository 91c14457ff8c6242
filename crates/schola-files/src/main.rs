//! `schola-files`: the file share daemon.

fn main() {}
