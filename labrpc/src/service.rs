//! Servers and the services they hold: named handlers for `"Service.Method"`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A request as a handler receives it: the encoded args and the name of the
/// caller's args type (checked against the handler's, as Go's labrpc carries
/// the args' reflect type; postcard bytes alone do not say what they are).
pub(crate) struct Request<'a> {
    pub(crate) args_type: &'static str,
    pub(crate) reply_type: &'static str,
    pub(crate) bytes: &'a [u8],
}

/// A handler as the network sees it: a request in, reply bytes out, or a
/// message saying why the request does not fit the handler (a programming
/// error the caller reports).
type RawHandler = Box<dyn Fn(&Request) -> Result<Vec<u8>, String> + Send + Sync>;

/// A named set of RPC handlers, e.g. the `Raft` service with `RequestVote` and
/// `AppendEntries`.
///
/// ```
/// let service = labrpc::Service::new("Echo").handler("Twice", |n: u64| n * 2);
/// assert_eq!(service.name(), "Echo");
/// ```
pub struct Service {
    name: String,
    handlers: HashMap<String, RawHandler>,
}

impl Service {
    /// A service with no handlers yet.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            handlers: HashMap::new(),
        }
    }

    /// The service's name, the part of `"Service.Method"` before the dot.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers `f` as the handler of `"<name>.<method>"` (replacing any
    /// earlier one). The network decodes a fresh `A` from the request for every
    /// call and encodes the returned `R`, so caller and handler never share
    /// memory. Handlers run on the network's threads and may block as long as
    /// they need.
    pub fn handler<A, R, F>(mut self, method: &str, f: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let full_name = format!("{}.{}", self.name, method);
        let raw = move |request: &Request| -> Result<Vec<u8>, String> {
            let (want_args, want_reply) = (std::any::type_name::<A>(), std::any::type_name::<R>());
            if request.args_type != want_args || request.reply_type != want_reply {
                return Err(format!(
                    "labrpc: {full_name} takes {want_args} and replies {want_reply}, but was called with {} expecting {}",
                    request.args_type, request.reply_type
                ));
            }
            let args: A = labgob::decode(request.bytes).map_err(|e| {
                format!(
                    "labrpc: {full_name}: the arguments do not decode as {}: {e}",
                    std::any::type_name::<A>()
                )
            })?;
            Ok(labgob::encode(&f(args)))
        };
        self.handlers.insert(method.to_string(), Box::new(raw));
        self
    }

    fn dispatch(&self, method: &str, request: &Request) -> Result<Vec<u8>, String> {
        match self.handlers.get(method) {
            Some(handler) => handler(request),
            None => {
                let mut known: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
                known.sort_unstable();
                Err(format!(
                    "labrpc::Service::dispatch(): unknown method {method} in {}.{method}; expecting one of {known:?}",
                    self.name
                ))
            }
        }
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut methods: Vec<&String> = self.handlers.keys().collect();
        methods.sort_unstable();
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("methods", &methods)
            .finish()
    }
}

/// A container of services that answers at one server name on the network
/// (e.g. a Raft peer and a KV server sharing one "address").
#[derive(Default)]
pub struct Server {
    services: HashMap<String, Service>,
    count: AtomicUsize,
}

impl Server {
    /// A server with no services.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `service`, replacing any service of the same name.
    pub fn add_service(&mut self, service: Service) {
        self.services.insert(service.name.clone(), service);
    }

    /// How many requests were dispatched to this server.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Counts the request, then runs the handler of `service_method`.
    pub(crate) fn dispatch(
        &self,
        service_method: &str,
        request: &Request,
    ) -> Result<Vec<u8>, String> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let (service_name, method) = match service_method.rfind('.') {
            Some(dot) => (&service_method[..dot], &service_method[dot + 1..]),
            None => ("", service_method),
        };
        match self.services.get(service_name) {
            Some(service) => service.dispatch(method, request),
            None => {
                let mut known: Vec<&str> = self.services.keys().map(String::as_str).collect();
                known.sort_unstable();
                Err(format!(
                    "labrpc::Server::dispatch(): unknown service {service_name} in {service_method}; expecting one of {known:?}"
                ))
            }
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("services", &self.services.values().collect::<Vec<_>>())
            .field("count", &self.count())
            .finish()
    }
}
