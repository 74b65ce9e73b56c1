// Ctrl-C as a request to stop at the next safe point. Long commands (doge eval) call
// InstallInterruptHandler() once: the first SIGINT or SIGTERM only sets a flag, which their loops
// check between units of work (a batch of documents), so they can save what is finished, say how
// to resume and exit with code 130 (ErrorKind::kInterrupted). A second signal is not waited for:
// the default action runs (the process ends at once, losing at most the unsaved batch).
#ifndef DOGE_ENGINE_BASE_INTERRUPT_H_
#define DOGE_ENGINE_BASE_INTERRUPT_H_

namespace doge {

void InstallInterruptHandler();
// True once SIGINT or SIGTERM arrived after InstallInterruptHandler().
bool InterruptRequested();

}  // namespace doge

#endif  // DOGE_ENGINE_BASE_INTERRUPT_H_
