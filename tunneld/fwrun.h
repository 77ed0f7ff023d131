/*
 * fwrun.h: the gateway's nftables transactions, run off the main thread.
 *
 * Changes are appended as nft script text to the open transaction
 * (fwrun_script(), with firewall.c's builders); fwrun_commit() says that
 * the changes so far may go. One transaction runs at a time, on a thread
 * of the runner's own (firewall_nft(), one `nft -f -`): everything
 * committed while it runs goes as the next one. So changes apply in the
 * order they were made, each transaction all or nothing, and the event
 * loop never waits for nft; a burst of changes costs a few nft runs, not
 * one per change.
 *
 * When a transaction has ended, done() is called on the event loop with
 * its number and NULL, or nft's complaint: then nothing of it applied,
 * and the owner decides what comes next (firewall_resync()).
 */
#ifndef FZC_FWRUN_H
#define FZC_FWRUN_H

#include <stdint.h>

struct event_base;
struct fw_script;
struct fwrun;

typedef void	(*fwrun_done_cb)(void *, uint64_t, const char *);

/* The runner of nft at this path; its thread starts here. */
struct fwrun	*fwrun_new(struct event_base *, const char *, fwrun_done_cb,
		    void *);
/* Waits for a running transaction to end; what was not run is dropped. */
void		 fwrun_free(struct fwrun *);

/* The open transaction's script, to append changes to. */
struct fw_script *fwrun_script(struct fwrun *);
/*
 * The open transaction is ready: it starts at once if none runs, else
 * after the running one. Returns its number (1, 2, ...), by which done()
 * will name it, or 0 when it is empty: nothing to wait for.
 */
uint64_t	 fwrun_commit(struct fwrun *);
/* Empties the open transaction, committed or not; it keeps its number. */
void		 fwrun_discard(struct fwrun *);

#endif
