//! Precompresses the static assets (gzip and brotli, best compression) at build time and
//! fingerprints each with a hash of its content, so the server sends the smallest encoding the
//! browser accepts without compressing anything per request, and pages can link assets with a
//! long-lived `immutable` cache (`/static/schola.css?v=<hash>`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use sha2::Digest as _;

fn mime(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::var("OUT_DIR")?;
    let out = Path::new(&out);
    println!("cargo::rerun-if-changed=static");
    let mut names: Vec<_> = std::fs::read_dir("static")?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for name in names {
        println!("cargo::rerun-if-changed=static/{name}");
        let raw = std::fs::read(Path::new("static").join(&name))?;
        let hash = hex(&sha2::Sha256::digest(&raw)[..6]);
        std::fs::write(out.join(&name), &raw)?;

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw)?;
        let gz = gz.finish()?;
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
            w.write_all(&raw)?;
        }
        // keep an encoding only where it saves something
        let variant = |ext: &str, data: &[u8]| -> Result<String, std::io::Error> {
            if data.len() + 32 < raw.len() {
                let file = format!("{name}.{ext}");
                std::fs::write(out.join(&file), data)?;
                Ok(format!(
                    "Some(include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\")))"
                ))
            } else {
                Ok("None".into())
            }
        };
        writeln!(
            table,
            "    Asset {{ name: {name:?}, hash: {hash:?}, mime: {mime:?}, raw: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\")), gzip: {gz}, brotli: {br} }},",
            mime = mime(&name),
            gz = variant("gz", &gz)?,
            br = variant("br", &br)?,
        )?;
    }
    table.push_str("];\n");
    std::fs::write(out.join("assets.rs"), table)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
