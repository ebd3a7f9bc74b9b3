package browsertest

import (
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
)

// Phone makes the tab a 375×812 touch screen at 3× density (a common
// phone), for checks that pages work on one.
func (p *Page) Phone() {
	p.t.Helper()
	p.run("emulate a phone",
		emulation.SetDeviceMetricsOverride(375, 812, 3, true),
		emulation.SetTouchEmulationEnabled(true))
}

// PressTab moves the keyboard focus to the next element, as the Tab key does.
func (p *Page) PressTab() {
	p.t.Helper()
	p.run("press Tab",
		input.DispatchKeyEvent(input.KeyDown).WithKey("Tab").WithCode("Tab").WithWindowsVirtualKeyCode(9),
		input.DispatchKeyEvent(input.KeyUp).WithKey("Tab").WithCode("Tab").WithWindowsVirtualKeyCode(9))
}

// PressEnter presses Enter on whatever has the focus, without waiting for a
// new page (use PressEnterIn for form submissions).
func (p *Page) PressEnter() {
	p.t.Helper()
	p.run("press Enter",
		input.DispatchKeyEvent(input.KeyDown).WithKey("Enter").WithCode("Enter").WithWindowsVirtualKeyCode(13).WithText("\r"),
		input.DispatchKeyEvent(input.KeyUp).WithKey("Enter").WithCode("Enter").WithWindowsVirtualKeyCode(13))
}
