//! `--name value` arguments.

use std::collections::HashMap;
use std::str::FromStr;

/// Parsed `--name value` pairs.
pub struct Args(HashMap<String, String>);

impl Args {
    pub fn parse(argv: impl Iterator<Item = String>) -> Self {
        let mut map = HashMap::new();
        let mut argv = argv.peekable();
        while let Some(arg) = argv.next() {
            let Some(name) = arg.strip_prefix("--") else { crate::fail(&format!("unexpected argument {arg}")) };
            let value = argv.next().unwrap_or_else(|| crate::fail(&format!("--{name} needs a value")));
            map.insert(name.to_owned(), value);
        }
        Args(map)
    }

    /// A required string argument.
    pub fn str(&self, name: &str) -> String {
        self.0.get(name).cloned().unwrap_or_else(|| crate::fail(&format!("--{name} is required")))
    }

    /// A numeric argument with a default.
    pub fn num<T: FromStr>(&self, name: &str, default: T) -> T {
        match self.0.get(name) {
            Some(v) => v.parse().unwrap_or_else(|_| crate::fail(&format!("--{name}: not a number: {v}"))),
            None => default,
        }
    }
}
