// A single-page app: renders the profile from its bundle and moves the address
// bar with pushState, without a new document.
(function () {
  const app = document.getElementById("app");
  const profile = {handle: "@rendered_handle", about: "Profile drawn by the app bundle (spamarker-profile).", phone: "+1 202 555 0191"};
  app.innerHTML = "";
  const h = document.createElement("h1");
  h.textContent = profile.handle;
  const p = document.createElement("p");
  p.textContent = profile.about + " Reach me on " + profile.phone + ".";
  app.appendChild(h);
  app.appendChild(p);
  history.pushState({view: "profile"}, "", "spa.html#/profile/rendered_handle");
  document.title = "Profile app — " + profile.handle;
})();
