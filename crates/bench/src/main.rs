//! `lunas-bench`: the benchmark programs, in a binary of their own so that the shipped `lunas`
//! carries none of them (nor the fakes they talk to). The programs that run `lunas serve` as a
//! separate process find the `lunas` binary beside this one (`target/release/lunas`), or where
//! `--lunas` says.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "lunas-bench",
    version,
    about = "Benchmarks of lunas, each beside its peer or bound"
)]
struct Cli {
    /// The `lunas` binary that benchmarks run as a server. Default: `lunas` beside this program.
    #[arg(long, global = true, env = "LUNAS_BENCH_LUNAS")]
    lunas: Option<std::path::PathBuf>,
    #[command(subcommand)]
    which: lunas_bench::Which,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(lunas_bench::run(cli.which, cli.lunas)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
