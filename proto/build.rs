//! Compiles the .proto schemas with protox, so a fresh machine needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schemas = ["schema/flux.proto"];
    for schema in schemas {
        println!("cargo:rerun-if-changed={schema}");
    }
    let fds = protox::compile(schemas, ["schema"])?;
    prost_build::Config::new().bytes(["."]).compile_fds(fds)?;
    Ok(())
}
