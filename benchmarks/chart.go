package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	sans           = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sluiceColor    = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	referenceColor = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
)

// writeChart draws the measured scenarios of rep as a PNG at path: two
// panels of horizontal bars, records/s and CPU seconds per million records,
// the reference points in grey.
func writeChart(path string, rep *report) error {
	var ok []*scenarioResult
	for _, r := range rep.Scenarios {
		if r.Status == statusOK {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	plot.DefaultFont = sans

	// The first scenario on top: bars are drawn from y=0 upwards.
	n := len(ok)
	names := make([]string, n)
	for i, r := range ok {
		names[n-1-i] = r.s.label()
	}
	rate, err := barPanel(ok, names, "records/s (median; whisker: min–max)",
		func(r *scenarioResult) float64 { return r.Median.RecordsPerSec },
		func(r *scenarioResult) float64 { return max(r.Median.RecordsPerSec, r.RecordsPerSecMax) }, fmtRate)
	if err != nil {
		return err
	}
	if err := addRange(rate, ok); err != nil {
		return err
	}
	cpuPerM := func(r *scenarioResult) float64 { return r.Median.CPUPerMRecords }
	cpu, err := barPanel(ok, names, "CPU seconds per million records (median)", cpuPerM, cpuPerM,
		func(v float64) string { return fmt.Sprintf("%.3g", v) })
	if err != nil {
		return err
	}
	cpu.HideY()

	width := 30 * vg.Centimeter
	height := vg.Length(n)*0.9*vg.Centimeter + 4*vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(120), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	m := rep.Machine
	title := fmt.Sprintf("Sluice benchmarks, %s, %s/%s, %d CPUs (%s), commit %s; %d records per file scenario, %d per Kafka one, median of %d run(s)",
		rep.Date.Format("2006-01-02 15:04 MST"), m.GOOS, m.GOARCH, m.NumCPU, orDash(m.CPUModel), shortCommit(m.Commit),
		rep.Settings.Records, rep.Settings.KafkaRecords, rep.Settings.Runs)
	sty := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 9), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	dc.FillText(sty, vg.Point{X: width / 2, Y: height - 3*vg.Millimeter}, title)

	tiles := draw.Tiles{Rows: 1, Cols: 2, PadTop: 10 * vg.Millimeter, PadBottom: 3 * vg.Millimeter,
		PadLeft: 3 * vg.Millimeter, PadRight: 6 * vg.Millimeter, PadX: 8 * vg.Millimeter}
	canvases := plot.Align([][]*plot.Plot{{rate, cpu}}, tiles, dc)
	rate.Draw(canvases[0][0])
	cpu.Draw(canvases[0][1])

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// barPanel is a plot of one value per scenario as horizontal bars with
// their values written next to them (after extent, where a whisker may
// end), Sluice's and the references' in two colours.
func barPanel(rs []*scenarioResult, names []string, title string, value, extent func(*scenarioResult) float64, label func(float64) string) (*plot.Plot, error) {
	n := len(rs)
	sluice, refs := make(plotter.Values, n), make(plotter.Values, n)
	labels := plotter.XYLabels{XYs: make(plotter.XYs, n), Labels: make([]string, n)}
	top := 0.0
	for i, r := range rs {
		y := n - 1 - i
		v := value(r)
		if len(r.s.refFor) > 0 {
			refs[y] = v
		} else {
			sluice[y] = v
		}
		labels.XYs[y] = plotter.XY{X: extent(r), Y: float64(y)}
		labels.Labels[y] = label(v)
		top = max(top, extent(r))
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 11
	p.X.Min, p.X.Max = 0, top*1.22
	p.X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		var ts []plot.Tick
		for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
			if t.Label != "" && t.Value != 0 {
				t.Label = label(t.Value)
			} else if t.Label != "" {
				t.Label = "0"
			}
			ts = append(ts, t)
		}
		return ts
	})
	p.Y.Tick.Label.Font.Size = 10
	p.NominalY(names...)
	for _, bars := range []struct {
		vs plotter.Values
		c  color.Color
	}{{sluice, sluiceColor}, {refs, referenceColor}} {
		b, err := plotter.NewBarChart(bars.vs, 0.6*vg.Centimeter)
		if err != nil {
			return nil, err
		}
		b.Horizontal, b.Color, b.LineStyle.Width = true, bars.c, 0
		p.Add(b)
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font = font.From(sans, 9)
		l.TextStyle[i].YAlign = draw.YCenter
	}
	l.Offset = vg.Point{X: 2 * vg.Millimeter}
	p.Add(l)
	return p, nil
}

// addRange draws each scenario's records/s range as a whisker on its bar.
func addRange(p *plot.Plot, rs []*scenarioResult) error {
	n := len(rs)
	var xys plotter.XYs
	var errs plotter.XErrors
	for i, r := range rs {
		if r.RecordsPerSecMax <= r.RecordsPerSecMin {
			continue
		}
		med := r.Median.RecordsPerSec
		xys = append(xys, plotter.XY{X: med, Y: float64(n - 1 - i)})
		errs = append(errs, struct{ Low, High float64 }{med - r.RecordsPerSecMin, r.RecordsPerSecMax - med})
	}
	if len(xys) == 0 {
		return nil
	}
	eb, err := plotter.NewXErrorBars(struct {
		plotter.XYer
		plotter.XErrorer
	}{xys, errs})
	if err != nil {
		return err
	}
	eb.LineStyle.Width = vg.Points(1)
	eb.CapWidth = 3 * vg.Millimeter
	p.Add(eb)
	return nil
}
