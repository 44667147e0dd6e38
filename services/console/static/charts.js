// The supervisor's charts: each <div data-chart> carries its data as JSON (rendered by the
// server), drawn by the vendored ECharts as SVG so the text stays selectable and printable.
document.querySelectorAll("[data-chart]").forEach(function (element) {
  var data = JSON.parse(element.dataset.chart);
  var chart = echarts.init(element, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { data: ["受理量", "超期量"] },
    grid: { left: 48, right: 16, bottom: 72 },
    xAxis: { type: "category", data: data.keys, axisLabel: { rotate: data.keys.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "受理量", type: element.dataset.kind, data: data.received, itemStyle: { color: "#165dff" } },
      { name: "超期量", type: element.dataset.kind, data: data.late, itemStyle: { color: "#c7000b" } },
    ],
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
