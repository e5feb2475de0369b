Attribute VB_Name = "Territory"
' The Territory ribbon: one callback behind every button of ribbon.xml.
'
' It passes the id of the button pressed (CheckData, ScoreAccounts, Rebalance,
' Measure, OpenMap, MapSnapshot, Help) to the one Python function
' excel_addin.ribbon.dispatch, through xlwings' RunPython (module xlwings of this add-in).
' All the work happens in Python, shared with the territory command line.
Option Explicit

Public Sub TerritoryButton(control As IRibbonControl)
    RunPython "import excel_addin.ribbon; excel_addin.ribbon.dispatch('" & control.Id & "')"
End Sub
