-- busted output handler: busted's plainTerminal output, then one last
-- line "N passed, N failed" (", N skipped" when tests are pending) that
-- CI reads.  Failures and errors (including files that fail to load)
-- count as failed.  busted's exit code is left alone.
--
--   lua5.4 "$(command -v busted)" -o spec/support/summary.lua spec

return function(options)
  local busted = require 'busted'
  local handler = require 'busted.outputHandlers.plainTerminal'(options)

  local function summary()
    local passed = handler.successesCount
    local failed = handler.failuresCount + handler.errorsCount
    local skipped = handler.pendingsCount
    local line = ('%d passed, %d failed'):format(passed, failed)
    if skipped > 0 then
      line = line .. (', %d skipped'):format(skipped)
    end
    io.write('\n', line, '\n')
    io.flush()
    return nil, true
  end

  -- Subscribed after plainTerminal's own suite-end handler, so it runs
  -- after busted's report of failures and errors.
  busted.subscribe({ 'suite', 'end' }, summary)

  return handler
end
