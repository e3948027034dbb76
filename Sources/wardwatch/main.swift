import WardwatchApp

await Wardwatch.launch()
