import "./mantine-styles.ts";
import "./app.css";
import { createTheme, MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./components/App.tsx";

// darker shades than Mantine's defaults, so white text on the primary colour passes WCAG AA
const theme = createTheme({ primaryColor: "blue", primaryShade: 8 });

// the server put a fresh nonce in this tag; Mantine's <style> tags carry it to pass the CSP
const nonce = document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.nonce ?? "";

const client = new QueryClient({
  defaultOptions: {
    // the live feed says when data changes; a refetch on focus catches a sleeping laptop
    queries: { staleTime: 30_000, retry: 2, refetchOnWindowFocus: true },
  },
});

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider theme={theme} getStyleNonce={() => nonce} forceColorScheme="light">
        <QueryClientProvider client={client}>
          <App />
        </QueryClientProvider>
      </MantineProvider>
    </StrictMode>,
  );
}
