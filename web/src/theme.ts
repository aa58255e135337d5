import {
  createTheme,
  defaultVariantColorsResolver,
  parseThemeColor,
  type CSSVariablesResolver,
  type VariantColorsResolver,
} from "@mantine/core";

/** Mantine's dimmed gray (gray.6) is below WCAG AA contrast on white: one shade darker. */
export const cssVariables: CSSVariablesResolver = (theme) => ({
  variables: {},
  light: { "--mantine-color-dimmed": theme.colors.gray[7] },
  dark: {},
});

/** Light tints whose shade-9 text is still below 4.5:1 on their shade-0 background. */
const PALE = new Set(["yellow", "orange", "lime", "green", "cyan"]);

/**
 * Mantine's light variant (badges, alerts, the active menu entry) sets shade-6 text on a
 * translucent tint: below WCAG AA. Here: shade-9 text (dark text for the pale hues) on shade 0.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const colors = defaultVariantColorsResolver(input);
  if (input.variant !== "light") return colors;
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  if (!parsed.isThemeColor) return colors;
  const name = parsed.color;
  return {
    ...colors,
    background: `var(--mantine-color-${name}-0)`,
    hover: `var(--mantine-color-${name}-1)`,
    color: PALE.has(name) ? "var(--mantine-color-dark-7)" : `var(--mantine-color-${name}-9)`,
  };
};

export const theme = createTheme({
  autoContrast: true,
  variantColorResolver,
  primaryColor: "blue",
  primaryShade: { light: 8 },
  defaultRadius: "md",
  fontFamily:
    "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', sans-serif",
  headings: { fontWeight: "650" },
  components: {
    Card: { defaultProps: { withBorder: true, radius: "md", padding: "lg" } },
    Button: { defaultProps: { radius: "md" } },
  },
});
