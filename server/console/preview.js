// The mail preview's frame (pages/templates.js). It is loaded in an <iframe sandbox="allow-scripts">
// (an origin of its own: no cookies, no API) and served with a policy of its own that allows
// the inline styles mail is written with. The console posts the HTML the server rendered; it is
// parsed as inert HTML (its scripts never run) and becomes this whole page, as a mail reader
// would show it.
"use strict";
window.addEventListener("message", (event) => {
  const data = event.data;
  if (event.source !== window.parent || !data || data.type !== "hirelay:preview") return;
  const parsed = new DOMParser().parseFromString(String(data.html), "text/html");
  document.replaceChild(document.adoptNode(parsed.documentElement), document.documentElement);
});
