/* sandbox.h: fzc-controld's seccomp allow-list. */
#ifndef FZC_SANDBOX_H
#define FZC_SANDBOX_H

void	sandbox_enter(void);

#endif
