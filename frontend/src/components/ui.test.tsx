import { MantineProvider, Table } from "@mantine/core";
import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ACTIONS_COLUMN, DataTable, FormModal, PagedTable } from "./ui";

function renderWithProviders(ui: ReactNode) {
  render(
    <MantineProvider>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>{ui}</QueryClientProvider>
    </MantineProvider>,
  );
}

type Fruit = { id: string; name: string };

function Fruits({ page }: { page: { items: Fruit[]; total: number; offset: number; limit: number } }) {
  const query = useQuery({ queryKey: ["fruits", page], queryFn: () => page });
  return (
    <PagedTable
      query={query}
      empty="No fruit yet."
      onOffset={() => {}}
      label="Fruits"
      columns={["Name", { label: "Count", numeric: true }, ACTIONS_COLUMN]}
      renderRow={(fruit) => (
        <Table.Tr key={fruit.id}>
          <Table.Td>{fruit.name}</Table.Td>
          <Table.Td>1</Table.Td>
          <Table.Td />
        </Table.Tr>
      )}
    />
  );
}

afterEach(cleanup);

describe("PagedTable", () => {
  it("shows the loading state named after the table, then the page and the pager", async () => {
    renderWithProviders(<Fruits page={{ items: [{ id: "1", name: "Apple" }], total: 21, offset: 0, limit: 20 }} />);
    expect(screen.getByLabelText("Loading fruits")).toBeDefined();
    const table = await screen.findByRole("table", { name: "Fruits" });
    const headings = within(table).getAllByRole("columnheader");
    expect(headings.map((th) => th.textContent)).toEqual(["Name", "Count", ""]);
    expect(headings[2].getAttribute("aria-label")).toBe("Actions");
    expect(within(table).getByText("Apple")).toBeDefined();
    expect(screen.getByText("1–20 of 21")).toBeDefined();
  });

  it("replaces the table with the empty state when the list is empty", async () => {
    renderWithProviders(<Fruits page={{ items: [], total: 0, offset: 0, limit: 20 }} />);
    expect((await screen.findByTestId("empty-state")).textContent).toBe("No fruit yet.");
    expect(screen.queryByRole("table")).toBeNull();
  });
});

describe("DataTable", () => {
  it("says so in a row spanning every column when nothing is left", () => {
    renderWithProviders(<DataTable label="Agents" columns={["Status", "Agent"]} rows={[]} emptyRow="No agent matches." renderRow={() => null} />);
    const cell = within(screen.getByRole("table", { name: "Agents" })).getByText("No agent matches.").closest("td");
    expect(cell?.getAttribute("colspan")).toBe("2");
  });
});

describe("FormModal", () => {
  it("shows the problems, submits and closes on Cancel", () => {
    const onSubmit = vi.fn();
    const onClose = vi.fn();
    renderWithProviders(
      <FormModal title="New thing" onClose={onClose} onSubmit={onSubmit} problems={{ message: "Name taken.", fields: {} }} submitting={false} submitLabel="Create">
        <input aria-label="Name" />
      </FormModal>,
    );
    const dialog = screen.getByRole("dialog", { name: "New thing" });
    expect(within(dialog).getByRole("alert").textContent).toContain("Name taken.");
    fireEvent.click(within(dialog).getByRole("button", { name: "Create" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(onClose).toHaveBeenCalled();
  });
});
