// Package screenshot turns a terminal screen, as the e2e harness's
// emulator holds it (cells with their colours and attributes), into a PNG
// picture, with the Go Mono font. It is how the README's screenshot is
// made from a real server and a real SSH session (see screenshot_test.go
// and `task screenshot`), so the picture can be made again whenever the
// UI changes.
package screenshot

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/vt"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Cell is one cell of a screen: what it shows and how.
type Cell struct {
	Content string // one grapheme; "" for the right half of a wide one
	Width   int    // cells it covers: 1, or 2 for a wide grapheme
	Fg, Bg  color.Color
	Bold    bool
	Faint   bool
	Reverse bool
	Under   bool
}

// Screen is a terminal's visible cells, row by row.
type Screen struct {
	W, H  int
	Cells []Cell // W×H, row-major
}

// At is the cell at column x of row y.
func (s *Screen) At(x, y int) *Cell { return &s.Cells[y*s.W+x] }

// Capture copies the emulator's visible screen.
func Capture(emu *vt.SafeEmulator) Screen {
	w, h := emu.Width(), emu.Height()
	s := Screen{W: w, H: h, Cells: make([]Cell, w*h)}
	for y := range h {
		for x := range w {
			c := emu.CellAt(x, y)
			if c == nil {
				s.At(x, y).Content, s.At(x, y).Width = " ", 1
				continue
			}
			st := c.Style
			*s.At(x, y) = Cell{
				Content: c.Content,
				Width:   c.Width,
				Fg:      st.Fg,
				Bg:      st.Bg,
				Bold:    st.Attrs&uv.AttrBold != 0,
				Faint:   st.Attrs&uv.AttrFaint != 0,
				Reverse: st.Attrs&uv.AttrReverse != 0,
				Under:   st.Underline != uv.UnderlineNone,
			}
		}
	}
	return s
}

// Options set how a screen is drawn. A zero field takes the default named
// beside it.
type Options struct {
	Size   float64     // font size in pixels; 16
	Fg, Bg color.Color // the terminal's own colours, for cells without one; a dark theme
	Margin int         // pixels around the screen; 12
}

func (o *Options) setDefaults() {
	if o.Size == 0 {
		o.Size = 16
	}
	if o.Fg == nil {
		o.Fg = color.RGBA{0xd0, 0xd0, 0xd0, 0xff}
	}
	if o.Bg == nil {
		o.Bg = color.RGBA{0x1c, 0x1c, 0x22, 0xff}
	}
	if o.Margin == 0 {
		o.Margin = 12
	}
}

// Render draws s: each cell's background, then its grapheme in its
// colour, bold in Go Mono Bold. Box-drawing characters are drawn as lines;
// a glyph the font lacks as an empty box.
func Render(s Screen, o Options) (*image.RGBA, error) {
	o.setDefaults()
	regular, err := newFace(gomono.TTF, o.Size)
	if err != nil {
		return nil, err
	}
	bold, err := newFace(gomonobold.TTF, o.Size)
	if err != nil {
		return nil, err
	}
	m := regular.face.Metrics()
	adv, _ := regular.face.GlyphAdvance('M')
	cw := adv.Ceil()
	ch := (m.Ascent + m.Descent).Ceil() + 2 // a little leading between rows
	img := image.NewRGBA(image.Rect(0, 0, s.W*cw+2*o.Margin, s.H*ch+2*o.Margin))
	draw.Draw(img, img.Bounds(), image.NewUniform(o.Bg), image.Point{}, draw.Src)

	for y := range s.H {
		for x := range s.W {
			c := s.At(x, y)
			fg, bg := colorOr(c.Fg, o.Fg), colorOr(c.Bg, o.Bg)
			if c.Reverse {
				fg, bg = bg, fg
			}
			if c.Faint {
				fg = blend(fg, bg, 0.5)
			}
			w := max(c.Width, 1)
			cell := image.Rect(o.Margin+x*cw, o.Margin+y*ch, o.Margin+(x+w)*cw, o.Margin+(y+1)*ch)
			if c.Content == "" && c.Width == 0 {
				continue // the right half of a wide grapheme, drawn with its left
			}
			draw.Draw(img, cell, image.NewUniform(bg), image.Point{}, draw.Src)
			if c.Under {
				line := image.Rect(cell.Min.X, cell.Max.Y-2, cell.Max.X, cell.Max.Y-1)
				draw.Draw(img, line, image.NewUniform(fg), image.Point{}, draw.Src)
			}
			text := c.Content
			if text == "" || text == " " {
				continue
			}
			f := regular
			if c.Bold {
				f = bold
			}
			r := []rune(text)[0]
			if _, _, box := boxArms(r); box || !f.has(r) {
				// Box drawing is drawn as lines from edge to edge, so
				// borders join across the rows' leading.
				drawLines(img, cell, r, fg)
				continue
			}
			d := font.Drawer{
				Dst:  img,
				Src:  image.NewUniform(fg),
				Face: f.face,
				Dot:  fixed.P(cell.Min.X, cell.Min.Y+1+m.Ascent.Ceil()),
			}
			d.DrawString(text)
		}
	}
	return img, nil
}

// face is a font at one size, and its glyph table for coverage.
type face struct {
	face font.Face
	font *sfnt.Font
	buf  sfnt.Buffer
}

func newFace(ttf []byte, size float64) (*face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	ff, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("font face: %w", err)
	}
	return &face{face: ff, font: f}, nil
}

func (f *face) has(r rune) bool {
	i, err := f.font.GlyphIndex(&f.buf, r)
	return err == nil && i != 0
}

// drawLines draws a box-drawing character as lines (light or heavy,
// rounded corners as square ones), or a glyph the font lacks as an empty
// box.
func drawLines(img *image.RGBA, cell image.Rectangle, r rune, fg color.Color) {
	src := image.NewUniform(fg)
	mid := image.Pt((cell.Min.X+cell.Max.X)/2, (cell.Min.Y+cell.Max.Y)/2)
	arms, heavy, ok := boxArms(r)
	if !ok {
		b := cell.Inset(3)
		for _, e := range []image.Rectangle{
			{b.Min, image.Pt(b.Max.X, b.Min.Y+1)}, {image.Pt(b.Min.X, b.Max.Y-1), b.Max},
			{b.Min, image.Pt(b.Min.X+1, b.Max.Y)}, {image.Pt(b.Max.X-1, b.Min.Y), b.Max},
		} {
			draw.Draw(img, e, src, image.Point{}, draw.Src)
		}
		return
	}
	t := 1
	if heavy {
		t = 2
	}
	if arms&up != 0 {
		draw.Draw(img, image.Rect(mid.X, cell.Min.Y, mid.X+t, mid.Y+t), src, image.Point{}, draw.Src)
	}
	if arms&down != 0 {
		draw.Draw(img, image.Rect(mid.X, mid.Y, mid.X+t, cell.Max.Y), src, image.Point{}, draw.Src)
	}
	if arms&left != 0 {
		draw.Draw(img, image.Rect(cell.Min.X, mid.Y, mid.X+t, mid.Y+t), src, image.Point{}, draw.Src)
	}
	if arms&right != 0 {
		draw.Draw(img, image.Rect(mid.X, mid.Y, cell.Max.X, mid.Y+t), src, image.Point{}, draw.Src)
	}
}

const (
	up = 1 << iota
	down
	left
	right
)

// boxArms is which way the lines of a box-drawing character go.
func boxArms(r rune) (arms int, heavy, ok bool) {
	switch r {
	case '─':
		return left | right, false, true
	case '━':
		return left | right, true, true
	case '│':
		return up | down, false, true
	case '┃':
		return up | down, true, true
	case '╭', '┌':
		return down | right, false, true
	case '╮', '┐':
		return down | left, false, true
	case '╰', '└':
		return up | right, false, true
	case '╯', '┘':
		return up | left, false, true
	case '├':
		return up | down | right, false, true
	case '┤':
		return up | down | left, false, true
	case '┬':
		return down | left | right, false, true
	case '┴':
		return up | left | right, false, true
	case '┼':
		return up | down | left | right, false, true
	}
	return 0, false, false
}

func colorOr(c, def color.Color) color.Color {
	if c == nil {
		return def
	}
	return c
}

// blend mixes a into b: 0 is a, 1 is b.
func blend(a, b color.Color, f float64) color.Color {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	mix := func(x, y uint32) uint8 { return uint8((float64(x)*(1-f) + float64(y)*f) / 257) }
	return color.RGBA{mix(ar, br), mix(ag, bg), mix(ab, bb), 0xff}
}
