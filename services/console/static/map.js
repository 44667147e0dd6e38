// The point of a matter on the city's own map tiles (only when the city's tile service is
// configured: government networks are offline). The page gives the point in the tiles' datum.
"use strict";
(function () {
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  var point = [Number(box.dataset.lat), Number(box.dataset.lon)];
  var map = L.map(box, { attributionControl: Boolean(box.dataset.attribution) }).setView(point, 16);
  var tiles = L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution });
  tiles.on("load", function () { box.dataset.loaded = "true"; });
  tiles.addTo(map);
  L.marker(point, { title: box.dataset.title || "" }).addTo(map);
})();
