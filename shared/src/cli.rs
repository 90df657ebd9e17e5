//! What every service's command line shares.

/// The command given as the first argument (`serve` when none).
pub fn command() -> String {
    std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned())
}

/// The end of every service's command match: help for `-h`, `--help` and
/// `help`; anything else is an unknown command (exit status 2).
pub fn help_or_unknown(command: &str, usage: &str) {
    if matches!(command, "-h" | "--help" | "help") {
        eprintln!("{usage}");
        return;
    }
    eprintln!("unknown command {command:?}\n\n{usage}");
    std::process::exit(2);
}
