//! Ctrl-C: the first press asks the run to stop cleanly (it still checks and
//! writes what it recorded); a second press quits at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use labrt::channel::{self, Receiver};

/// Exit status after a second Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_SECOND_INTERRUPT: i32 = 130;

static PRESSES: AtomicUsize = AtomicUsize::new(0);
static FINISHING: AtomicBool = AtomicBool::new(false);

/// The clients have stopped: from now on a first Ctrl-C has nothing left to
/// stop, and says so.
pub fn set_finishing() {
    FINISHING.store(true, Ordering::SeqCst);
}

/// Installs the handler; the returned channel receives one message on the
/// first Ctrl-C.
pub fn install() -> Result<Receiver<()>, ctrlc::Error> {
    let (tx, rx) = channel::bounded(1);
    ctrlc::set_handler(move || {
        if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
            if FINISHING.load(Ordering::SeqCst) {
                eprintln!(
                    "\nCtrl-C: the run is over and being checked (Ctrl-C again quits at once)"
                );
            } else {
                eprintln!(
                    "\nCtrl-C: stopping; what was recorded is still checked and written \
                     (Ctrl-C again quits at once)"
                );
            }
            let _ = tx.try_send(());
        } else {
            eprintln!("\nCtrl-C again: quitting now");
            std::process::exit(EXIT_SECOND_INTERRUPT);
        }
    })?;
    Ok(rx)
}
