//! The `select!` macro: crossbeam's syntax over the runtime's channels.

/// Waits on several channel operations and runs the branch of the one that
/// completes, with crossbeam's syntax:
///
/// ```
/// use labrt::channel;
/// use labrt::time::Duration;
/// let (tx, rx) = channel::unbounded::<u32>();
/// tx.send(7).unwrap();
/// let got = labrt::select! {
///     recv(rx) -> msg => msg.unwrap(),
///     recv(channel::after(Duration::from_secs(1))) -> _ => 0,
/// };
/// assert_eq!(got, 7);
/// ```
///
/// Branches: `recv(r) -> pattern => body`, `send(s, value) -> pattern => body`
/// (`value` is evaluated only if this send is picked), and at most one
/// `default => body` (nothing ready now) or `default(timeout) => body`. Each
/// channel expression is evaluated once. Up to 16 operations.
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__labrt_select!(@parse [] [] [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15] $($tokens)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __labrt_select {
    // recv branches
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] recv($r:expr) -> $p:pat => $b:block, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse [$($c)* [recv $i ($r) () ($p) ($b)]] $d [$($is)*] $($rest)*)
    };
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] recv($r:expr) -> $p:pat => $b:block $($rest:tt)*) => {
        $crate::__labrt_select!(@parse [$($c)* [recv $i ($r) () ($p) ($b)]] $d [$($is)*] $($rest)*)
    };
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] recv($r:expr) -> $p:pat => $b:expr, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse [$($c)* [recv $i ($r) () ($p) ($b)]] $d [$($is)*] $($rest)*)
    };
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] recv($r:expr) -> $p:pat => $b:expr) => {
        $crate::__labrt_select!(@parse [$($c)* [recv $i ($r) () ($p) ($b)]] $d [$($is)*])
    };
    // send branches
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] send($s:expr, $v:expr) -> $p:pat => $b:block, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse [$($c)* [send $i ($s) ($v) ($p) ($b)]] $d [$($is)*] $($rest)*)
    };
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] send($s:expr, $v:expr) -> $p:pat => $b:block $($rest:tt)*) => {
        $crate::__labrt_select!(@parse [$($c)* [send $i ($s) ($v) ($p) ($b)]] $d [$($is)*] $($rest)*)
    };
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] send($s:expr, $v:expr) -> $p:pat => $b:expr, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse [$($c)* [send $i ($s) ($v) ($p) ($b)]] $d [$($is)*] $($rest)*)
    };
    (@parse [$($c:tt)*] $d:tt [$i:tt $($is:tt)*] send($s:expr, $v:expr) -> $p:pat => $b:expr) => {
        $crate::__labrt_select!(@parse [$($c)* [send $i ($s) ($v) ($p) ($b)]] $d [$($is)*])
    };
    // default branches
    (@parse $c:tt [] $is:tt default => $b:block, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $c [now () ($b)] $is $($rest)*)
    };
    (@parse $c:tt [] $is:tt default => $b:block $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $c [now () ($b)] $is $($rest)*)
    };
    (@parse $c:tt [] $is:tt default => $b:expr, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $c [now () ($b)] $is $($rest)*)
    };
    (@parse $c:tt [] $is:tt default => $b:expr) => {
        $crate::__labrt_select!(@parse $c [now () ($b)] $is)
    };
    (@parse $c:tt [] $is:tt default($t:expr) => $b:block, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $c [timeout ($t) ($b)] $is $($rest)*)
    };
    (@parse $c:tt [] $is:tt default($t:expr) => $b:block $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $c [timeout ($t) ($b)] $is $($rest)*)
    };
    (@parse $c:tt [] $is:tt default($t:expr) => $b:expr, $($rest:tt)*) => {
        $crate::__labrt_select!(@parse $c [timeout ($t) ($b)] $is $($rest)*)
    };
    (@parse $c:tt [] $is:tt default($t:expr) => $b:expr) => {
        $crate::__labrt_select!(@parse $c [timeout ($t) ($b)] $is)
    };
    // all parsed
    (@parse [$([$kind:ident $i:tt ($ch:expr) $v:tt ($p:pat) $b:tt])*] $d:tt $is:tt) => {{
        let __labrt_chans = ($(&$ch,)*);
        let mut __labrt_sel = $crate::channel::Select::new();
        $( $crate::__labrt_select!(@register $kind __labrt_sel __labrt_chans.$i); )*
        $crate::__labrt_select!(@wait __labrt_sel $d __labrt_op {
            let __labrt_index = __labrt_op.index();
            $(
                if __labrt_index == $i {
                    $crate::__labrt_select!(@complete $kind __labrt_op (__labrt_chans.$i) $v ($p) $b)
                } else
            )*
            { unreachable!("labrt::select!: no such operation") }
        })
    }};
    (@parse $($rest:tt)*) => {
        compile_error!("labrt::select!: expected `recv(r) -> pat => body`, `send(s, v) -> pat => body`, or one `default`")
    };

    (@register recv $sel:ident $ch:expr) => { $sel.recv($ch) };
    (@register send $sel:ident $ch:expr) => { $sel.send($ch) };

    (@wait $sel:ident [] $op:ident $then:block) => {{
        let $op = $sel.select();
        $then
    }};
    (@wait $sel:ident [now () $b:tt] $op:ident $then:block) => {
        match $sel.try_select() {
            None => $b,
            Some($op) => $then,
        }
    };
    (@wait $sel:ident [timeout ($t:expr) $b:tt] $op:ident $then:block) => {
        match $sel.select_timeout($t) {
            None => $b,
            Some($op) => $then,
        }
    };

    (@complete recv $op:ident ($ch:expr) () ($p:pat) $b:tt) => {{
        let $p = $op.recv($ch);
        $b
    }};
    (@complete send $op:ident ($ch:expr) ($v:expr) ($p:pat) $b:tt) => {{
        let $p = $op.send($ch, $v);
        $b
    }};
}
