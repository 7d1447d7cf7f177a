// twilio-taskrouter, unmodified, with its dependencies, as one browser script.
// Its npm dist/index.window.js require()s its dependencies, so it cannot load in a page alone.
// The global keeps the name of the package's own browser build (webpack output.library).
globalThis.TaskRouter = require("twilio-taskrouter");
