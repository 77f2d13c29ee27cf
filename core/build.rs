//! Pairs every up migration in `sql/migrations` with its reviewed down script in
//! `sql/down` and embeds the down scripts. A migration without a down script fails the
//! build: rollback is a promise to operators, not an afterthought.

use std::{collections::BTreeMap, env, fs, path::Path};

fn main() {
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql");
    println!("cargo:rerun-if-changed={}", sql.display());
    let ups = scan(&sql.join("migrations"), ".sql");
    let downs = scan(&sql.join("down"), ".down.sql");

    for (version, name) in &ups {
        match downs.get(version) {
            Some(down) if down == name => {}
            Some(down) => {
                panic!("sql/down/V{version}__{down}.down.sql does not match V{version}__{name}.sql")
            }
            None => panic!("migration V{version}__{name}.sql has no down script sql/down/V{version}__{name}.down.sql"),
        }
    }
    if let Some((version, name)) = downs.iter().find(|(v, _)| !ups.contains_key(v)) {
        panic!("sql/down/V{version}__{name}.down.sql has no up migration");
    }

    let mut out = String::from(
        "/// (version, name, down SQL), ascending by version.\npub(crate) static DOWN_SCRIPTS: &[(u32, &str, &str)] = &[\n",
    );
    for (version, name) in &downs {
        let path = sql.join("down").join(format!("V{version}__{name}.down.sql"));
        let path = path.canonicalize().expect("down script path");
        out.push_str(&format!("    ({version}, {name:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    out.push_str("];\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("down_scripts.rs"), out).unwrap();
}

/// Version -> name for files named `V{version}__{name}{suffix}`.
fn scan(dir: &Path, suffix: &str) -> BTreeMap<u32, String> {
    let mut found = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let file = entry.unwrap().file_name().into_string().expect("utf-8 file name");
        let Some(stem) = file.strip_suffix(suffix) else {
            continue;
        };
        if suffix == ".sql" && stem.ends_with(".down") {
            continue;
        }
        let (version, name) = stem
            .strip_prefix('V')
            .and_then(|s| s.split_once("__"))
            .unwrap_or_else(|| panic!("{file}: expected V{{n}}__{{name}}{suffix}"));
        let version: u32 = version.parse().unwrap_or_else(|_| panic!("{file}: version is not a number"));
        assert!(found.insert(version, name.to_owned()).is_none(), "two migrations with version {version}");
    }
    found
}
