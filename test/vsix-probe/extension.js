// The probe does nothing as an extension: VS Code needs a development extension to run a tests
// module (extensionTestsPath = probe.js). It must not be Scholar, or the installed copy would be shadowed.
exports.activate = () => undefined;
exports.deactivate = () => undefined;
