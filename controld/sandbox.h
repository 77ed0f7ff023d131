/* sandbox.h: fzc-controld's seccomp allow-list and its file access. */
#ifndef FZC_SANDBOX_H
#define FZC_SANDBOX_H

void	sandbox_enter(void);
void	sandbox_files(const char *);

#endif
