/**
 * For tests that start the bot as a child process: loaded with `--import`,
 * it makes the child exit when the test process goes away, so a failed or
 * killed test run leaves no bot behind holding a port or a database.
 */
export const orphanGuard = 'data:text/javascript,' + encodeURIComponent("process.channel?.unref();process.on('disconnect',()=>process.exit(70));");
