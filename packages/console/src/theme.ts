import {
  Alert,
  Anchor,
  type CSSVariablesResolver,
  createTheme,
  Drawer,
  darken,
  Loader,
  Modal,
  Notification,
  toRgba,
} from '@mantine/core'

// The console's theme, held to WCAG 2.2 AA (issue 26.6). Mantine's light scheme puts white on indigo-6
// (4.3:1), grey-6 dimmed text on white (3.3:1), grey-5 placeholders (2.1:1) and shade-9 text on the
// light badges' shade-1 (3.8:1 for green); every colour below is instead the first shade that reaches
// 4.5:1 against what it sits on, computed, so a colour added later is held to the same rule.
const AA = 4.5
const WHITE = '#ffffff'

/** WCAG 2.x relative luminance of an opaque colour (hex or rgb[a]). */
function luminance(color: string): number {
  const { r, g, b } = toRgba(color)
  const linear = (c: number) => {
    const s = c / 255
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

/** The first of `candidates` legible on `background`, else the last one darkened until it is. */
function legibleOn(background: string, candidates: string[], ratio = AA): string {
  const found = candidates.find((c) => contrast(c, background) >= ratio)
  if (found) return found
  let color = candidates.at(-1)!
  for (let step = 0.05; contrast(color, background) < ratio && step <= 1; step += 0.05)
    color = darken(candidates.at(-1)!, step)
  return color
}

/** Light-variant text is also shown faded (a NavLink's description at 0.9 opacity): kept above 4.5 then. */
const LIGHT_TEXT = 6

const resolver: CSSVariablesResolver = (theme) => {
  const light: Record<string, string> = {}
  for (const [name, shades] of Object.entries(theme.colors)) {
    if (name === 'dark') continue
    // White text on the filled variant (buttons, filled badges, the switch's ON track).
    const filled = legibleOn(WHITE, [shades[6]!, shades[7]!, shades[8]!, shades[9]!])
    light[`--mantine-color-${name}-filled`] = filled
    light[`--mantine-color-${name}-filled-hover`] = darken(filled, 0.12)
    // Coloured text on white: Text c=…, outline and subtle variants.
    light[`--mantine-color-${name}-text`] = filled
    light[`--mantine-color-${name}-outline`] = filled
    // The light variant's text on its shade-1 background (the green Active / ON badges).
    light[`--mantine-color-${name}-light-color`] = legibleOn(shades[1]!, [shades[9]!], LIGHT_TEXT)
  }
  const gray = theme.colors.gray
  // Secondary text and placeholders sit on white, grey-0 (table stripes) and grey-1 (light grey badges).
  const dimmed = legibleOn(gray[1]!, [gray[6]!])
  return {
    variables: {},
    light: {
      ...light,
      '--mantine-color-dimmed': dimmed,
      '--mantine-color-placeholder': dimmed,
      '--mantine-color-anchor': light[`--mantine-color-${theme.primaryColor}-text`]!,
      '--mantine-color-error': light['--mantine-color-red-text']!,
    },
    dark: {},
  }
}

export const cssVariablesResolver = resolver

/** Every close button says what it does: screen readers otherwise announce an unnamed "button". */
const CLOSE = 'Close'

export const theme = createTheme({
  // Someone who asks their system for less motion gets none: modals, menus and dropdowns open and close at
  // once (WCAG 2.3.3). The console's walks ask for it too, so no step waits out a transition.
  respectReducedMotion: true,
  primaryColor: 'indigo',
  defaultRadius: 'md',
  components: {
    // A link in running text is told apart by more than its colour (WCAG 1.4.1, link-in-text-block).
    Anchor: Anchor.extend({ defaultProps: { underline: 'always' } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': CLOSE } } }),
    Drawer: Drawer.extend({ defaultProps: { closeButtonProps: { 'aria-label': CLOSE } } }),
    Alert: Alert.extend({ defaultProps: { closeButtonLabel: CLOSE } }),
    // A spinner is a status: its aria-label ("Loading") is then allowed and read out (aria-prohibited-attr).
    Loader: Loader.extend({ defaultProps: { role: 'status' } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': CLOSE } } }),
  },
})
