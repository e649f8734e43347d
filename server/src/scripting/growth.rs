//! The script engine's built-in library, and the built-ins that grow a value checked *before*
//! they allocate. rhai checks a value's size after a built-in returns, so `s.replace("x", t)`
//! on a string of 16 KiB could build gigabytes before the check saw it; these replacements
//! compute the result's size first and refuse it with the same "data too large" error rhai
//! gives (a [`Limit`](super::error::Limit) with the script's line).
//!
//! The library is what scripts need: the core language, logic, maths, strings, arrays and maps.
//! Blobs, bit fields and timers are left out (nothing in the script API uses them).
use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, NativeCallContext, Position, INT,
};

use super::sandbox::{MAX_ARRAY_SIZE, MAX_STRING_SIZE};

type Checked<T> = Result<T, Box<EvalAltResult>>;

/// An engine with the packages scripts need and the growth-checked built-ins.
pub fn engine() -> Engine {
    let mut engine = Engine::new_raw();
    for package in [
        CorePackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
    ] {
        engine.register_global_module(package);
    }
    register_checked(&mut engine);
    engine
}

fn too_large(what: &str) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorDataTooLarge(
        what.to_owned(),
        Position::NONE,
    ))
}

/// The length `string` would have with every `find` replaced by `with`, refused past the limit.
fn replaced_len(string: &str, find: &str, with: &str) -> Checked<()> {
    if with.len() <= find.len() {
        return Ok(());
    }
    let count = string.matches(find).count();
    let grown = count
        .checked_mul(with.len() - find.len())
        .and_then(|g| g.checked_add(string.len()));
    match grown {
        Some(len) if len <= MAX_STRING_SIZE => Ok(()),
        _ => Err(too_large("Length of string")),
    }
}

fn replace(string: &mut ImmutableString, find: &str, with: &str) -> Checked<()> {
    replaced_len(string, find, with)?;
    if !string.is_empty() {
        *string = string.replace(find, with).into();
    }
    Ok(())
}

/// How many parts splitting `string` by `by` gives, refused past the array limit.
fn parts(count: usize) -> Checked<()> {
    if count > MAX_ARRAY_SIZE {
        return Err(too_large("Size of array/BLOB"));
    }
    Ok(())
}

fn strings(parts: impl Iterator<Item = impl Into<ImmutableString>>) -> Array {
    parts.map(|p| Dynamic::from(p.into())).collect()
}

/// The string bytes and the array items `value` holds, nested ones included, as rhai's own
/// size check counts them.
fn held(value: &Dynamic) -> (usize, usize) {
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return (s.len(), 0);
    }
    if let Some(array) = value.read_lock::<Array>() {
        return array.iter().fold((0, array.len()), |(s, a), item| {
            let (s2, a2) = held(item);
            (s.saturating_add(s2), a.saturating_add(a2))
        });
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        return map.values().fold((0, 0), |(s, a), item| {
            let (s2, a2) = held(item);
            (s.saturating_add(s2), a.saturating_add(a2))
        });
    }
    (0, 0)
}

/// What a value holds as rhai's size check counts it, kept up to date as a built-in grows it.
#[derive(Clone, Copy, Default)]
struct Growth {
    strings: usize,
    items: usize,
}

impl Growth {
    fn of_items(array: &Array) -> Growth {
        let mut growth = Growth {
            items: array.len(),
            ..Growth::default()
        };
        for item in array {
            growth.add(held(item));
        }
        growth
    }

    fn add(&mut self, (strings, items): (usize, usize)) {
        self.strings = self.strings.saturating_add(strings);
        self.items = self.items.saturating_add(items);
    }

    fn remove(&mut self, (strings, items): (usize, usize)) {
        self.strings = self.strings.saturating_sub(strings);
        self.items = self.items.saturating_sub(items);
    }

    /// Adds one item holding `value` (an answer kept in a new array).
    fn push(&mut self, value: &Dynamic) -> Checked<()> {
        self.add(held(value));
        self.items = self.items.saturating_add(1);
        self.check()
    }

    /// The same refusal rhai gives once the value is past a limit.
    fn check(&self) -> Checked<()> {
        if self.strings > MAX_STRING_SIZE {
            return Err(too_large("Length of string"));
        }
        parts(self.items)
    }
}

/// Whether `e` says `f` itself does not take that many arguments (not a call inside it).
fn takes_other_arguments(f: &FnPtr, e: &EvalAltResult) -> bool {
    matches!(e, EvalAltResult::ErrorFunctionNotFound(sig, _) if sig.starts_with(f.fn_name()))
}

/// Calls `f` for `item` at `index` the ways rhai's `map` and `for_each` do: with the item as
/// `this` (which `f` may change) and no argument, else with the item, else with the item and
/// its index.
fn call_for(
    ctx: &NativeCallContext,
    f: &FnPtr,
    item: &mut Dynamic,
    index: usize,
) -> Checked<Dynamic> {
    match f.call_raw(ctx, Some(item), []) {
        Err(e) if takes_other_arguments(f, &e) => {}
        done => return done,
    }
    match f.call_raw(ctx, None, [item.clone()]) {
        Err(e) if takes_other_arguments(f, &e) => {}
        done => return done,
    }
    let index = INT::try_from(index).unwrap_or(INT::MAX);
    f.call_raw(ctx, None, [item.clone(), index.into()])
}

/// Runs `f` on each item of `array` (which it may change through `this`), refused as soon as
/// the array, or the array of the answers `keep` keeps, passes the string or array limit.
fn each_checked(
    ctx: &NativeCallContext,
    array: &mut Array,
    f: &FnPtr,
    keep: bool,
) -> Checked<Array> {
    let mut source = Growth::of_items(array);
    let (mut built, mut growth) = (Array::new(), Growth::default());
    for (index, item) in array.iter_mut().enumerate() {
        let before = held(item);
        let answer = call_for(ctx, f, item, index)?;
        source.remove(before);
        source.add(held(item));
        source.check()?;
        if keep {
            growth.push(&answer)?;
            built.push(answer);
        }
    }
    Ok(built)
}

/// `array.map(f)`, refused as soon as what it builds passes the string or array limit (security
/// review X1: rhai's own `map` is checked only when it returns, after building up to 10,000
/// strings of 256 KiB, 2.5 GB, from an array of small ones).
fn map(ctx: NativeCallContext, array: &mut Array, f: FnPtr) -> Checked<Array> {
    each_checked(&ctx, array, &f, true)
}

/// `array.for_each(f)`, refused as soon as the items `f` changes pass a limit (X1).
fn for_each(ctx: NativeCallContext, array: &mut Array, f: FnPtr) -> Checked<()> {
    each_checked(&ctx, array, &f, false).map(|_| ())
}

/// `array.zip(other, f)`, refused as soon as what it builds passes a limit (X1).
fn zip(ctx: NativeCallContext, array: &mut Array, other: Array, f: FnPtr) -> Checked<Array> {
    let (mut built, mut growth) = (Array::new(), Growth::default());
    for (index, (x, y)) in array.iter().zip(other).enumerate() {
        let value = match f.call_raw(&ctx, None, [x.clone(), y.clone()]) {
            Err(e) if takes_other_arguments(&f, &e) => {
                let index = INT::try_from(index).unwrap_or(INT::MAX);
                f.call_raw(&ctx, None, [x.clone(), y, index.into()])?
            }
            done => done?,
        };
        growth.push(&value)?;
        built.push(value);
    }
    Ok(built)
}

fn register_checked(engine: &mut Engine) {
    engine
        .register_fn("map", map)
        .register_fn("for_each", for_each)
        .register_fn("zip", zip);
    engine
        .register_fn(
            "replace",
            |s: &mut ImmutableString, find: &str, with: &str| replace(s, find, with),
        )
        .register_fn(
            "replace",
            |s: &mut ImmutableString, find: &str, with: char| {
                replace(s, find, with.encode_utf8(&mut [0; 4]))
            },
        )
        .register_fn(
            "replace",
            |s: &mut ImmutableString, find: char, with: &str| {
                replace(s, find.encode_utf8(&mut [0; 4]), with)
            },
        )
        .register_fn(
            "replace",
            |s: &mut ImmutableString, find: char, with: char| {
                replace(
                    s,
                    find.encode_utf8(&mut [0; 4]),
                    with.encode_utf8(&mut [0; 4]),
                )
            },
        )
        .register_fn(
            "split",
            |s: &mut ImmutableString, by: &str| -> Checked<Array> {
                parts(s.matches(by).count() + 1)?;
                Ok(strings(s.split(by)))
            },
        )
        .register_fn(
            "split",
            |s: &mut ImmutableString, by: char| -> Checked<Array> {
                parts(s.matches(by).count() + 1)?;
                Ok(strings(s.split(by)))
            },
        )
        .register_fn("split", |s: &mut ImmutableString| -> Checked<Array> {
            parts(s.split_whitespace().count())?;
            Ok(strings(s.split_whitespace()))
        })
        .register_fn(
            "split_rev",
            |s: &mut ImmutableString, by: &str| -> Checked<Array> {
                parts(s.matches(by).count() + 1)?;
                Ok(strings(s.rsplit(by)))
            },
        )
        .register_fn(
            "split_rev",
            |s: &mut ImmutableString, by: char| -> Checked<Array> {
                parts(s.matches(by).count() + 1)?;
                Ok(strings(s.rsplit(by)))
            },
        )
        .register_fn("to_chars", |s: &str| -> Checked<Array> {
            parts(s.chars().count())?;
            Ok(s.chars().map(Dynamic::from_char).collect())
        });
}

#[cfg(test)]
mod tests {
    use crate::scripting::engine::tests::run;
    use crate::scripting::error::{Limit, ScriptError};
    use std::time::{Duration, Instant};

    fn limit_of(source: &str) -> Option<Limit> {
        match run(source) {
            Err(ScriptError::Limit { limit, .. }) => Some(limit),
            other => panic!("{source}: not a limit: {other:?}"),
        }
    }

    #[test]
    fn h2_replace_is_refused_before_it_builds_a_huge_string() {
        let started = Instant::now();
        for source in [
            r#"let s = "x"; s.pad(16384, "x"); let t = s; s.replace("x", t);"#,
            r#"let s = "x"; s.pad(200000, "x"); s.replace("x", "yy");"#,
            r#"let s = "x"; s.pad(200000, "x"); s.replace('x', "yy");"#,
            r#"let s = "x"; s.pad(200000, "x"); s.replace("", "y");"#,
            r#"let s = "x"; s.pad(200000, "x"); s.replace('x', '𝒜');"#,
        ] {
            assert_eq!(limit_of(source), Some(Limit::StringSize), "{source}");
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        let (_, log) = run(r#"let s = "a-b"; s.replace("-", "+"); print(s);"#).unwrap();
        assert_eq!(log, vec!["a+b"]);
    }

    #[test]
    fn h2_split_and_to_chars_are_refused_past_the_array_limit() {
        for source in [
            r#"let s = "x"; s.pad(100000, ",x"); s.split(",");"#,
            r#"let s = "x"; s.pad(100000, ",x"); s.split(',');"#,
            r#"let s = "x"; s.pad(100000, " x"); s.split();"#,
            r#"let s = "x"; s.pad(100000, ",x"); s.split_rev(",");"#,
            r#"let s = "x"; s.pad(100000, "x"); s.to_chars();"#,
        ] {
            assert_eq!(limit_of(source), Some(Limit::ArraySize), "{source}");
        }
        let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut stock = rhai::Engine::new();
        let sink = printed.clone();
        stock.on_print(move |s| *sink.lock().unwrap() = s.to_owned());
        for expr in [
            r#""a,b".split(",")"#,
            r#""a,b".split(',')"#,
            r#""a  b".split()"#,
            r#""a,b,c".split_rev(",")"#,
            r#""ab".to_chars()"#,
            r#"{ let s = "a-b-"; s.replace("-", "+="); s }"#,
        ] {
            stock.run(&format!("print({expr});")).unwrap();
            let want = printed.lock().unwrap().clone();
            let (_, log) = run(&format!("print({expr});")).unwrap();
            assert_eq!(log, vec![want], "{expr}");
        }
    }

    #[test]
    fn h2_growing_built_ins_stay_within_the_limits() {
        for (source, limit) in [
            (r#"let s = "x"; s.pad(1000000, "x");"#, Limit::StringSize),
            (r#"let s = "x"; s.pad(200000, "𝒜𝒜");"#, Limit::StringSize),
            (
                r#"let s = "x"; s.pad(200000, "x"); s + s;"#,
                Limit::StringSize,
            ),
            (r#"let a = [1]; a.pad(100000, 0);"#, Limit::ArraySize),
            (
                r#"let a = []; a.pad(5000, 0); let b = []; b.pad(100, a);"#,
                Limit::ArraySize,
            ),
            (
                r#"let s = "x"; s.pad(1000, "x"); let a = []; a.pad(1000, s);"#,
                Limit::StringSize,
            ),
            (r#"let a = []; a.pad(9000, 0); a + a;"#, Limit::ArraySize),
        ] {
            assert_eq!(limit_of(source), Some(limit), "{source}");
        }
    }

    /// Security review X1: `map` stops when what it builds passes a limit, not after building
    /// it all: the closure runs a few times, not once per item.
    #[test]
    fn review_x1_map_is_refused_as_it_grows_not_after() {
        let source = r#"
            let big = "x"; big.pad(100000, "x");
            let a = []; a.pad(2000, 0);
            let b = a.map(|v| big + v);
        "#;
        assert_eq!(limit_of(source), Some(Limit::StringSize));
        // Within the limits, `map` answers as rhai's own: each way of writing the closure.
        let counted = r#"
            let a = []; a.pad(2000, 0);
            let b = a.map(|v| { v + 1 });
            print(b.len());
            let c = a.map(|v, i| i);
            print(c[1999]);
            let d = [1, 2].map(|| this * 10);
            print(d);
        "#;
        let (_, log) = run(counted).unwrap();
        assert_eq!(log, vec!["2000", "1999", "[10, 20]"]);
        let started = Instant::now();
        let bomb = r#"
            let big = "x"; big.pad(250000, "x");
            let a = []; a.pad(3000, 0);
            a.map(|v| big + v);
        "#;
        assert_eq!(limit_of(bomb), Some(Limit::StringSize));
        for grows in [
            r#"let big = "x"; big.pad(250000, "x"); let a = []; a.pad(3000, 0);
               a.for_each(|| this = big + this);"#,
            r#"let big = "x"; big.pad(250000, "x"); let a = []; a.pad(3000, 0);
               a.map(|| { this = big + this; 0 });"#,
            r#"let big = "x"; big.pad(250000, "x"); let a = []; a.pad(3000, 0);
               a.zip(a, |x, y| big + x);"#,
        ] {
            assert_eq!(limit_of(grows), Some(Limit::StringSize), "{grows}");
        }
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        let (_, log) = run(
            r#"let a = [1, 2, 3]; a.for_each(|| this *= 2); print(a);
               a.for_each(|v, i| print(v + i));
               print([1, 2].zip([10, 20], |x, y| x + y)); print([1, 2].zip([10, 20], |x, y, i| i));"#,
        )
        .unwrap();
        assert_eq!(log, vec!["[2, 4, 6]", "2", "5", "8", "[11, 22]", "[0, 1]"]);
    }

    #[test]
    fn h2_blobs_and_timers_are_not_in_the_library() {
        for source in ["blob(10);", "timestamp();"] {
            let err = run(source).unwrap_err().to_string();
            assert!(
                err.contains("not found") || err.contains("unknown"),
                "{source}: {err}"
            );
        }
    }
}
