// Dashboard webview script (browser IIFE). Filled in by the surfaces work.
export {};
