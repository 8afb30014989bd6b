// Starts ReDoc (api_core/templates/api_core/redoc.html) without inline script.
"use strict";

(() => {
  const script = document.currentScript;
  // The sidebar's "API docs by Redocly" credit shows Redocly's logo from their
  // CDN, and ReDoc has no option to leave it out: this page loads nothing from
  // other hosts, so that image is hidden instead of ever being requested.
  // React sets an image's source both ways, so both are watched.
  const isRedoclyLogo = (url) => new URL(url, document.baseURI).hostname === "cdn.redoc.ly";
  const image = HTMLImageElement.prototype;
  const src = Object.getOwnPropertyDescriptor(image, "src");
  Object.defineProperty(image, "src", {
    ...src,
    set(value) {
      if (isRedoclyLogo(value)) {
        this.hidden = true;
      } else {
        src.set.call(this, value);
      }
    },
  });
  image.setAttribute = function setAttribute(name, value) {
    if (name.toLowerCase() === "src" && isRedoclyLogo(value)) {
      this.hidden = true;
    } else {
      Element.prototype.setAttribute.call(this, name, value);
    }
  };
  // ReDoc puts the nonce on the <style> elements it adds (REDOC_CSP's style-src).
  Redoc.init(
    script.dataset.schemaUrl,
    { ...JSON.parse(script.dataset.settings), nonce: script.nonce },
    document.getElementById("redoc-container"),
  );
})();
