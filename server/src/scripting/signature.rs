//! What the host functions take, declared where they are registered: [`HostApi::add`] registers
//! a function with rhai and keeps its parameters' names and kinds, so the save-time check of
//! calls ([`super::calls`]) and the engine read one declaration.
//!
//! The host functions take `Dynamic` so that they can name a wrong argument in their own words;
//! the kinds say what those arguments must be.
use rhai::{Array, Dynamic, Engine, FuncRegistration, ImmutableString, Map, RhaiNativeFunc, INT};
use std::any::TypeId;

/// What a parameter takes, as far as a literal argument can show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string (`label`, a template name, an RFC 3339 timestamp, …).
    Text,
    /// An integer or a float.
    Number,
    Int,
    Float,
    Bool,
    Char,
    Array,
    /// An object map (`#{…}`).
    Map,
    Unit,
    /// Anything.
    Any,
    /// A type no literal has (a function pointer, a range, a blob, a smaller integer, …).
    Other,
}

impl Kind {
    /// The kind of a parameter rhai registered with `type_id`.
    pub fn of_type(type_id: TypeId) -> Kind {
        match type_id {
            t if t == TypeId::of::<Dynamic>() => Kind::Any,
            t if t == TypeId::of::<INT>() => Kind::Int,
            t if t == TypeId::of::<rhai::FLOAT>() => Kind::Float,
            t if t == TypeId::of::<bool>() => Kind::Bool,
            t if t == TypeId::of::<char>() => Kind::Char,
            t if t == TypeId::of::<ImmutableString>() || t == TypeId::of::<String>() => Kind::Text,
            t if t == TypeId::of::<Array>() => Kind::Array,
            t if t == TypeId::of::<Map>() => Kind::Map,
            t if t == TypeId::of::<()>() => Kind::Unit,
            _ => Kind::Other,
        }
    }

    /// Whether a literal of kind `literal` may be passed where `self` is expected.
    pub fn accepts(self, literal: Kind) -> bool {
        match self {
            Kind::Any => true,
            Kind::Number => matches!(literal, Kind::Int | Kind::Float),
            expected => expected == literal,
        }
    }

    /// The kind in words: "a string", "an object map".
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Number => "a number",
            Kind::Int => "an integer",
            Kind::Float => "a float",
            Kind::Bool => "a boolean",
            Kind::Char => "a character",
            Kind::Array => "an array",
            Kind::Map => "an object map (`#{…}`)",
            Kind::Unit => "`()`",
            Kind::Any => "anything",
            Kind::Other => "another type",
        }
    }

    /// The type's name in signatures (`label(label: string)`).
    fn type_name(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Number => "number",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Char => "char",
            Kind::Array => "array",
            Kind::Map => "map",
            Kind::Unit => "()",
            Kind::Any | Kind::Other => "any",
        }
    }
}

/// One parameter of a host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
}

/// A parameter named `name` that takes `kind`.
pub const fn param(name: &'static str, kind: Kind) -> Param {
    Param { name, kind }
}

/// A host function as scripts call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub name: &'static str,
    pub params: Vec<Param>,
}

/// Registers host functions into an engine and keeps their signatures.
pub struct HostApi<'e> {
    engine: &'e mut Engine,
    signatures: Vec<Signature>,
}

impl<'e> HostApi<'e> {
    pub fn new(engine: &'e mut Engine) -> HostApi<'e> {
        HostApi {
            engine,
            signatures: Vec::new(),
        }
    }

    /// Registers `func` as `name` taking `params` (as many as the function has: checked by
    /// the compiler).
    pub fn add<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
        &mut self,
        name: &'static str,
        params: [Param; N],
        func: FUNC,
    ) -> &mut Self
    where
        R: rhai::Variant + Clone,
        FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
    {
        FuncRegistration::new(name)
            .with_params_info(
                params
                    .iter()
                    .map(|p| format!("{}: {}", p.name, p.kind.type_name())),
            )
            .register_into_engine(self.engine, func);
        self.signatures.push(Signature {
            name,
            params: params.to_vec(),
        });
        self
    }

    /// The signatures of every function added.
    pub fn finish(self) -> Vec<Signature> {
        self.signatures
    }
}
