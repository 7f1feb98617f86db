use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = yongjun::cli::Cli::parse();
    if let Err(error) = yongjun::cli::run(cli).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
